"""Triggers and skips."""

from __future__ import annotations

from typing import Any

import pytest

from asyncflow import Flow, Task, task, triggers
from asyncflow.signals import SKIP
from asyncflow.states import Failed, Skipped, Success, TriggerFailed

pytestmark = pytest.mark.anyio


@task
def ok() -> str:
    return "ok"


@task
def boom() -> None:
    raise RuntimeError("boom")


@task
def skip() -> None:
    raise SKIP("nothing")


async def outcome(trigger: Any, *uppers: Task[Any], skip_on_upstream_skip: bool = True) -> type:
    @task(trigger=trigger, skip_on_upstream_skip=skip_on_upstream_skip)
    def downstream() -> str:
        return "ran"

    with Flow("f") as flow:
        ups = [u() for u in uppers]
        d = downstream(upstream_tasks=ups)
    state = await flow.run()
    return type(state.result[d])


@pytest.mark.parametrize(
    ("trigger", "uppers", "expected"),
    [
        (triggers.all_successful, (ok, ok), Success),
        (triggers.all_successful, (ok, boom), TriggerFailed),
        (triggers.all_failed, (boom, boom), Success),
        (triggers.all_failed, (ok, boom), TriggerFailed),
        (triggers.any_successful, (ok, boom), Success),
        (triggers.any_successful, (boom, boom), TriggerFailed),
        (triggers.any_failed, (ok, boom), Success),
        (triggers.any_failed, (ok, ok), TriggerFailed),
        (triggers.all_finished, (ok, boom), Success),
        (triggers.always_run, (boom, boom), Success),
        (triggers.some_successful(at_least=2), (ok, ok, boom), Success),
        (triggers.some_successful(at_least=3), (ok, ok, boom), TriggerFailed),
        (triggers.some_successful(at_most=0.5), (ok, boom, boom), Success),
        (triggers.some_failed(at_least=1, at_most=1), (ok, boom), Success),
        (triggers.some_failed(at_most=0), (ok, boom), TriggerFailed),
    ],
)
async def test_trigger_semantics(trigger: Any, uppers: tuple[Task[Any], ...], expected: type) -> None:
    assert await outcome(trigger, *uppers) is expected


async def test_upstream_skip_runs_before_the_trigger() -> None:
    assert await outcome(triggers.all_finished, skip, ok) is Skipped
    assert await outcome(triggers.all_finished, skip, ok, skip_on_upstream_skip=False) is Success


async def test_not_all_skipped() -> None:
    assert await outcome(triggers.not_all_skipped, skip, ok, skip_on_upstream_skip=False) is Success
    assert await outcome(triggers.not_all_skipped, skip, skip, skip_on_upstream_skip=False) is Skipped


async def test_a_trigger_returning_false_is_trigger_failed_and_not_retried() -> None:
    calls = {"n": 0}

    def never(states: Any) -> bool:
        calls["n"] += 1
        return False

    @task(trigger=never, max_retries=3, retry_delay=0)
    def guarded() -> None: ...

    with Flow("f") as flow:
        g = guarded(upstream_tasks=[ok()])
    state = await flow.run()
    assert isinstance(state.result[g], TriggerFailed)
    assert "returned False" in (state.result[g].message or "")
    assert calls["n"] == 1


async def test_cleanup_still_runs_after_a_failure() -> None:
    cleaned: list[str] = []

    @task(trigger=triggers.always_run)
    def cleanup() -> None:
        cleaned.append("done")

    with Flow("f") as flow:
        b = boom()
        middle = ok(upstream_tasks=[b])
        cleanup(upstream_tasks=[middle])
    state = await flow.run()
    assert cleaned == ["done"]
    assert isinstance(state.result[middle], TriggerFailed)
    assert isinstance(state, Success)  # the terminal task (cleanup) succeeded


async def test_reference_tasks_keep_failures_visible_with_cleanup() -> None:
    @task(trigger=triggers.always_run)
    def cleanup() -> None: ...

    with Flow("f") as flow:
        b = boom()
        cleanup(upstream_tasks=[b])
    flow.set_reference_tasks([b])
    assert isinstance(await flow.run(), Failed)


def test_bad_trigger_bounds() -> None:
    with pytest.raises(ValueError, match="at_least"):
        triggers.some_successful(at_least=-1)
