"""OpenTelemetry spans: a flow run is a span, each of its task runs a child span.

A :class:`RunTracer` is a run observer (see ``FlowRunner``): the engine calls it for
every transition, on the event loop and in the task run's context, and awaits its
``open`` and ``close`` around the run. The flow run's span starts at ``open``, as a
child of whatever span is current where ``flow.run`` was awaited, and is made current
for the run, so each task run's span is its child; a task run's span is current while
the task runs, so the spans the task's own code makes (an HTTP client's, say) are its
children, also in a sync task's worker thread. A mapped child's span is a child of its
mapped task's span.

A task run's span starts with its first transition and ends with its last: one span
covers every attempt (a retried task's failures are recorded on it as exceptions) and
every loop iteration. Attributes: ``asyncflow.flow``, ``asyncflow.flow_run_id``,
``asyncflow.task``, ``asyncflow.task_slug``, ``asyncflow.map_index`` (mapped children
only), ``asyncflow.state``, ``asyncflow.run_count`` and, for a result persisted by a
Result other than the JSONResult, ``asyncflow.result_location``. A failure's exception
is recorded on its span (``span.record_exception``) and sets its status to ERROR. No
value, parameter or secret is put on a span.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context, trace

from .._core._context import current_flow_run
from .._core._states import Failed, Looped, Mapped, Paused, State, Success
from .._results._json import JSONResult
from .._version import __version__

if TYPE_CHECKING:
    from .._core._task import Task

_TRACER_NAME = "asyncflow"
Key = tuple[Any, int | None]

#: The task run whose span this context made current (to undo it in the same context).
_current_key: ContextVar[Key | None] = ContextVar("asyncflow_span_key", default=None)


def _final(task: Task[Any], state: State) -> bool:
    """Whether ``state`` is the last transition of its task run."""
    if not state.is_finished() or isinstance(state, Looped):
        return False
    if isinstance(state, Failed):  # a failure the engine retries is not the end
        retry_on = task.retry_on
        return not (state.run_count <= task.max_retries
                    and (retry_on is None or isinstance(state.result, retry_on)))
    # A Success the engine caches is followed by a Cached transition.
    return not (type(state) is Success and task.cache_for is not None)


def _result_location(state: State) -> str | None:
    result = state._result_obj
    if result is None or isinstance(result, JSONResult):  # a JSON location is the value
        return None
    location = result.location
    return location if isinstance(location, str) else None


class _Open:
    __slots__ = ("span", "token")

    def __init__(self, span: trace.Span, token: object) -> None:
        self.span = span
        self.token = token


class RunTracer:
    """Records one flow run as OpenTelemetry spans (see the module's doc)."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self.tracer = provider.get_tracer(_TRACER_NAME, __version__)
        self.flow: Any = None
        self.flow_name = ""
        self.flow_state: State | None = None
        self.run_span: trace.Span | None = None
        self._run_token: object = None
        self._open: dict[Key, _Open] = {}
        #: The spans of mapped tasks, parents of their children's spans.
        self._mapped: dict[Any, trace.Span] = {}

    async def open(self) -> None:
        fctx = current_flow_run()
        assert fctx is not None
        self.flow = fctx.flow
        self.flow_name = str(fctx.values.get("flow_name"))
        self.run_span = self.tracer.start_span(self.flow_name, attributes={
            "asyncflow.flow": self.flow_name,
            "asyncflow.flow_run_id": str(fctx.values.get("flow_run_id")),
        })
        self._run_token = otel_context.attach(trace.set_span_in_context(self.run_span))

    def __call__(self, obj: Any, old: State, new: State) -> None:
        if obj is self.flow:
            self.flow_state = new
            return
        key: Key = (obj, new.map_index)
        found = self._open.get(key)
        if found is None:
            found = self._start(obj, new.map_index, key)
        span = found.span
        if isinstance(new, Failed):
            exc = new.result
            if isinstance(exc, BaseException):
                span.record_exception(exc)
        if _final(obj, new):
            self._end(key, found, new)

    def _start(self, task: Task[Any], map_index: int | None, key: Key) -> _Open:
        attributes: dict[str, Any] = {"asyncflow.flow": self.flow_name,
                                      "asyncflow.task": task.name,
                                      "asyncflow.task_slug": task.slug or task.name}
        if map_index is not None:
            attributes["asyncflow.map_index"] = map_index
        parent = self._mapped.get(task) if map_index is not None else None
        span = self.tracer.start_span(
            task.name, attributes=attributes,
            context=trace.set_span_in_context(parent) if parent is not None else None,
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        found = self._open[key] = _Open(span, (token, _current_key.set(key)))
        return found

    def _end(self, key: Key, found: _Open, state: State) -> None:
        del self._open[key]
        span = found.span
        span.set_attribute("asyncflow.state", type(state).__name__)
        span.set_attribute("asyncflow.run_count", max(state.run_count, 1))
        location = _result_location(state)
        if location is not None:
            span.set_attribute("asyncflow.result_location", location)
        if isinstance(state, Failed):
            span.set_status(trace.StatusCode.ERROR, state.message or type(state).__name__)
        elif isinstance(state, Mapped):
            self._mapped[key[0]] = span
        span.end()
        self._detach(key, found.token)

    @staticmethod
    def _detach(key: Key, tokens: Any) -> None:
        """Undo making the span current, if this is the context that made it so."""
        if _current_key.get() != key:
            return
        context_token, key_token = tokens
        _current_key.reset(key_token)
        otel_context.detach(context_token)

    async def close(self) -> None:
        for key, found in list(self._open.items()):  # a run cancelled or broken midway
            found.span.set_attribute("asyncflow.state", "Cancelled")
            found.span.end()
            del self._open[key]
        span = self.run_span
        if span is None:
            return
        state = self.flow_state
        if state is None or not (state.is_finished() or isinstance(state, Paused)):
            span.set_attribute("asyncflow.state", "Failed")
            span.set_status(trace.StatusCode.ERROR,
                            "the flow run stopped without a final state")
        else:
            span.set_attribute("asyncflow.state", type(state).__name__)
            if state.is_failed():
                span.set_status(trace.StatusCode.ERROR, state.message or type(state).__name__)
        span.end()
        otel_context.detach(self._run_token)  # type: ignore[arg-type]
