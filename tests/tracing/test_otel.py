"""OpenTelemetry: a flow run is a span and each task run a child span, with the SDK's
in-memory exporter; nothing happens when no tracer provider is set."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from opentelemetry.util._once import Once

from asyncflow import Flow, task
from asyncflow._tracing._hook import tracing_observer
from asyncflow.results import LocalResult

pytestmark = pytest.mark.anyio


def _set_provider(provider: trace.TracerProvider | None) -> None:
    """Install ``provider`` as the global one (None: as if none was ever set); the API
    lets a process set it once, so the tests reset that guard as OpenTelemetry's own do."""
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    if provider is not None:
        trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _set_provider(provider)
    try:
        yield exporter
    finally:
        _set_provider(None)
        provider.shutdown()


def _by_name(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_a_flow_run_is_a_span_and_its_task_runs_child_spans(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    @task(result=LocalResult(dir=tmp_path / "results"))
    async def extract() -> list[int]:
        return [1, 2]

    @task
    async def double(x: int) -> int:
        return 2 * x

    with Flow("etl") as flow:
        double.map(extract())
    state = await flow.run(history=False, checkpointing=True)
    assert state.is_successful()

    found = _by_name(spans)
    (run,) = found["etl"]
    assert run.parent is None
    assert run.attributes is not None
    assert run.attributes["asyncflow.flow"] == "etl"
    assert run.attributes["asyncflow.state"] == "Success"
    assert run.attributes["asyncflow.flow_run_id"]
    assert run.status.status_code is StatusCode.UNSET
    (extract_span,) = found["extract"]
    assert _parent_id(extract_span) == run.context.span_id
    assert extract_span.attributes is not None
    assert extract_span.attributes["asyncflow.task"] == "extract"
    assert extract_span.attributes["asyncflow.state"] == "Success"
    assert extract_span.attributes["asyncflow.run_count"] == 1
    location = str(extract_span.attributes["asyncflow.result_location"])
    assert (tmp_path / "results" / location).exists()
    mapped = [s for s in found["double"]
              if s.attributes is not None and "asyncflow.map_index" not in s.attributes]
    children = {int(str(s.attributes["asyncflow.map_index"])): s for s in found["double"]
                if s.attributes is not None and "asyncflow.map_index" in s.attributes}
    assert len(mapped) == 1 and sorted(children) == [0, 1]
    assert mapped[0].attributes is not None
    assert mapped[0].attributes["asyncflow.state"] == "Mapped"
    assert all(_parent_id(s) == mapped[0].context.span_id for s in children.values())
    assert all(s.context.trace_id == run.context.trace_id
               for s in spans.get_finished_spans())


async def test_a_failure_records_its_exception_on_the_one_span_of_all_attempts(
    spans: InMemorySpanExporter,
) -> None:
    @task(max_retries=1, retry_delay=datetime.timedelta(0))
    async def fragile() -> None:
        raise ValueError("the input is bad")

    with Flow("failing") as flow:
        fragile()
    state = await flow.run(history=False)
    assert state.is_failed()

    found = _by_name(spans)
    (span,) = found["fragile"]
    assert span.attributes is not None
    assert span.attributes["asyncflow.state"] == "Failed"
    assert span.attributes["asyncflow.run_count"] == 2
    assert span.status.status_code is StatusCode.ERROR
    exceptions = [e for e in span.events if e.name == "exception"]
    assert len(exceptions) == 2
    assert exceptions[0].attributes is not None
    assert exceptions[0].attributes["exception.type"] == "ValueError"
    assert exceptions[0].attributes["exception.message"] == "the input is bad"
    (run,) = found["failing"]
    assert run.status.status_code is StatusCode.ERROR


async def test_spans_made_by_a_task_are_children_of_its_span(
    spans: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("tests")

    @task
    async def calls_out() -> None:
        with tracer.start_as_current_span("async request"):
            pass

    @task
    def in_a_thread() -> None:
        with tracer.start_as_current_span("sync request"):
            pass

    with Flow("nested") as flow:
        calls_out()
        in_a_thread()
    with tracer.start_as_current_span("caller") as caller:
        await flow.run(history=False)

    found = _by_name(spans)
    assert _parent_id(found["nested"][0]) == caller.get_span_context().span_id
    assert _parent_id(found["async request"][0]) == found["calls_out"][0].context.span_id
    assert _parent_id(found["sync request"][0]) == found["in_a_thread"][0].context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN  # every context was restored


async def test_a_cached_task_run_is_one_span_that_ends_cached(
    spans: InMemorySpanExporter,
) -> None:
    @task(cache_for=datetime.timedelta(minutes=1))
    async def slow() -> int:
        return 1

    with Flow("cache") as flow:
        slow()
    await flow.run(history=False)
    (span,) = _by_name(spans)["slow"]
    assert span.attributes is not None
    assert span.attributes["asyncflow.state"] == "Cached"


def test_without_a_tracer_provider_a_run_is_not_traced() -> None:
    _set_provider(None)
    assert tracing_observer() is None  # the API's proxy provider: nothing records


def test_without_opentelemetry_imported_a_run_is_not_traced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = TracerProvider()
    _set_provider(provider)
    try:
        assert tracing_observer() is not None
        monkeypatch.delitem(sys.modules, "opentelemetry.trace")
        assert tracing_observer() is None
    finally:
        _set_provider(None)
        provider.shutdown()
