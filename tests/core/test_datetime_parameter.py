"""DateTimeParameter: ISO 8601 text in, a datetime out; a bad value stops the run at start."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from asyncflow import DateTimeParameter, Flow, FlowDefinitionError, ParameterError, task
from asyncflow.contrib.aiohttp import RunManager

UTC = datetime.timezone.utc
ran: list[Any] = []


@task
def seen(value: Any) -> Any:
    ran.append(value)
    return value


def _flow() -> tuple[Flow, Any, Any]:
    with Flow("dates") as flow:
        start = seen(DateTimeParameter("start"))
        end = seen(DateTimeParameter("end", required=False))
    return flow, start, end


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T12:30:00+02:00",
     datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))),
    ("2024-05-01T12:30:00Z", datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("2024-05-01T12:30:00", datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("2024-05-01", datetime.datetime(2024, 5, 1, tzinfo=UTC)),
])
def test_iso_8601_text_becomes_an_aware_datetime(text: str, expected: datetime.datetime) -> None:
    flow, start, end = _flow()
    state = flow.run_sync(parameters={"start": text})
    assert state.result[start].result == expected
    assert state.result[start].result.utcoffset() == expected.utcoffset()
    assert state.result[end].result is None  # optional and not given


def test_a_datetime_is_used_as_given_and_a_date_is_its_midnight_utc() -> None:
    flow, start, end = _flow()
    naive = datetime.datetime(2024, 5, 1, 8)
    state = flow.run_sync(parameters={"start": naive, "end": datetime.date(2024, 6, 1)})
    assert state.result[start].result is naive
    assert state.result[end].result == datetime.datetime(2024, 6, 1, tzinfo=UTC)


def test_a_default_is_parsed_and_makes_the_parameter_optional() -> None:
    with Flow("f") as flow:
        when = seen(DateTimeParameter("when", default="2024-01-02T03:04:05Z"))
    state = flow.run_sync()
    assert state.result[when].result == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_bad_value_fails_at_run_start_naming_the_parameter() -> None:
    flow, _, _ = _flow()
    ran.clear()
    for bad, message in [("yesterday", "'yesterday', which is not an ISO 8601"),
                         (20240501, "takes a date and time as ISO 8601 text"),
                         (None, "is required, so it cannot be None")]:
        with pytest.raises(ParameterError, match=message) as info:
            flow.run_sync(parameters={"start": bad})
        assert "parameter 'start'" in str(info.value)
        assert isinstance(info.value, ValueError)
    with pytest.raises(ParameterError, match="parameter 'end'"):
        flow.run_sync(parameters={"start": "2024-05-01", "end": "soon"})
    assert ran == []  # no task ran


def test_a_bad_default_is_refused_when_the_flow_is_built() -> None:
    with pytest.raises(FlowDefinitionError, match="the default of DateTimeParameter 'when'"):
        DateTimeParameter("when", default="next tuesday")


def test_checkpointing_stores_the_value_as_iso_text_and_none_as_null() -> None:
    flow, _, _ = _flow()
    state = flow.run_sync(parameters={"start": "2024-05-01T00:00:00Z"}, checkpointing=True)
    assert state.is_successful(), state.result
    stored = {p.name: state.result[p]._result.location for p in flow.parameters().values()}
    assert stored == {"start": "2024-05-01T00:00:00+00:00", "end": "null"}


@pytest.mark.anyio
async def test_a_run_manager_refuses_a_bad_value_before_accepting_the_run() -> None:
    flow, _, _ = _flow()
    async with RunManager([flow]) as manager:
        with pytest.raises(ParameterError, match="parameter 'start'"):
            manager.submit("dates", {"start": "not a date"})
        assert manager.active_runs == 0


FLOW_FILE = """\
    from asyncflow import DateTimeParameter, Flow, task

    @task
    def show(when):
        print("WHEN", when.isoformat(), flush=True)

    with Flow("dated") as flow:
        show(DateTimeParameter("when"))
"""


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "dated.py").write_text(textwrap.dedent(FLOW_FILE), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "asyncflow.cli", "run", "dated.py", *args,
                           "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_cli_reads_a_datetime_parameter_as_text(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-p", "when=2024-05-01T12:00:00Z")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "WHEN 2024-05-01T12:00:00+00:00"
    if sys.version_info >= (3, 11):  # the basic format is read from Python 3.11
        done = _cli(tmp_path, "-p", "when=20240501")  # not the JSON number 20240501
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "WHEN 2024-05-01T00:00:00+00:00"


def test_the_cli_reports_a_bad_datetime_parameter(tmp_path: Path) -> None:
    done = _cli(tmp_path, "-p", "when=tomorrow")
    assert done.returncode != 0
    assert "parameter 'when' got 'tomorrow', which is not an ISO 8601" in done.stderr
    assert "Traceback" not in done.stderr
