"""RunTracker: what the live view and the plain log learn from a run's transitions."""

from __future__ import annotations

import io

import pytest

from asyncflow import Flow, Parameter, task, unmapped
from asyncflow.cli._plain_log import PlainLog
from asyncflow.cli._tracking import Event, RunTracker, will_retry
from asyncflow.states import Failed, TriggerFailed

pytestmark = pytest.mark.anyio

attempts: dict[int, int] = {}


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task(max_retries=1, retry_delay=0)
def square(x: int, fail_on: list[int]) -> int:
    attempts[x] = attempts.get(x, 0) + 1
    if x == 0 and attempts[x] == 1:
        raise RuntimeError("flaky once")
    if x in fail_on:
        raise ValueError(f"{x} is not allowed")
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


def numbers_flow() -> Flow:
    attempts.clear()
    with Flow("numbers") as flow:
        total(square.map(numbers(Parameter("n", default=4)),
                         fail_on=unmapped(Parameter("fail_on", default=[]))))
    return flow


async def test_counts_follow_every_task_run_and_mapped_child() -> None:
    flow = numbers_flow()
    tracker = RunTracker(flow)

    state = await flow.run(observers=[tracker])

    snap = tracker.snapshot()
    assert state.is_successful()
    assert snap.flow_state is state
    assert dict(snap.counts) == {"Success": 2 + 1 + 4 + 1, "Mapped": 1}
    assert snap.not_started == 0
    (progress,) = snap.maps
    assert (progress.task.name, progress.total, progress.finished) == ("square", 4, 4)
    assert dict(progress.states) == {"Success": 4}
    assert (snap.retries, snap.failures) == (1, 0)
    assert snap.elapsed > 0


async def test_events_report_retries_final_failures_and_finished_maps() -> None:
    flow = numbers_flow()
    events: list[Event] = []
    tracker = RunTracker(flow, events.append)

    await flow.run(parameters={"fail_on": [2]}, observers=[tracker])

    seen = [(e.kind, e.who, e.state.name) for e in events]
    assert ("retry", "square-1[0]", "Retrying") in seen
    assert ("failed", "square-1[2]", "Failed") in seen
    # a failure that will be retried is not reported as a failure
    assert ("failed", "square-1[0]", "Failed") not in seen
    assert ("mapped", "square-1", "Mapped") in seen
    assert ("failed", "total-1", "TriggerFailed") in seen
    assert seen[0] == ("flow", "flow 'numbers'", "Running")
    assert seen[-1] == ("flow", "flow 'numbers'", "Failed")
    (done,) = [e for e in events if e.kind == "map_done"]
    assert done.progress is not None
    assert (done.progress.finished, done.progress.total) == (4, 4)
    assert dict(done.progress.states) == {"Success": 3, "Failed": 1}
    assert done.progress.failed == 1
    assert seen.index(("mapped", "square-1", "Mapped")) < seen.index(("map_done", "square-1", "Mapped"))


async def test_an_empty_map_is_finished_at_once() -> None:
    flow = numbers_flow()
    events: list[Event] = []

    await flow.run(parameters={"n": 0}, observers=[RunTracker(flow, events.append)])

    (done,) = [e for e in events if e.kind == "map_done"]
    assert done.progress is not None and done.progress.total == 0


async def test_the_plain_log_writes_one_flushed_line_per_event() -> None:
    flow = numbers_flow()
    out = io.StringIO()

    await flow.run(parameters={"fail_on": [3]}, observers=[RunTracker(flow, PlainLog(out))])

    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[0] == "flow 'numbers': Running"
    assert "square-1: mapped over 4 children" in lines
    assert ("square-1[0]: Retrying task run (attempt 2 of 2) after: Error during execution "
            "of task: RuntimeError('flaky once')") in lines
    assert "square-1[3]: Failed (Error during execution of task: ValueError('3 is not allowed'))" in lines
    assert "square-1: 4/4 children finished (1 Failed, 3 Success)" in lines
    assert lines[-1].startswith("flow 'numbers': Failed (Some reference tasks failed.) after ")


def test_will_retry_follows_the_tasks_retry_settings() -> None:
    @task(max_retries=2, retry_delay=0, retry_on=[ConnectionError])
    def fetch() -> None:
        return None

    assert will_retry(fetch, Failed(result=ConnectionError(), run_count=1))
    assert will_retry(fetch, Failed(result=ConnectionError(), run_count=2))
    assert not will_retry(fetch, Failed(result=ConnectionError(), run_count=3))
    assert not will_retry(fetch, Failed(result=ValueError(), run_count=1))
    assert not will_retry(fetch, TriggerFailed(run_count=1))
