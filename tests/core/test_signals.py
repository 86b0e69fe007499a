"""Signals end a task in a chosen state and are not swallowed by `except Exception`."""

from __future__ import annotations

from typing import Any

import pytest

from asyncflow import Flow, context, task
from asyncflow.signals import ENDRUN, FAIL, LOOP, RETRY, SKIP, SUCCESS
from asyncflow.states import Failed, Looped, Skipped, State, Success

from .recorder import Recorder

pytestmark = pytest.mark.anyio


async def run_one(t: Any) -> State:
    with Flow("f") as flow:
        node = t()
    state: State = (await flow.run()).result[node]
    return state


async def test_fail_signal_carries_its_data_to_handlers() -> None:
    seen: list[Any] = []

    def alert(obj: Any, old: State, new: State) -> State:
        if new.is_failed() and getattr(new.result, "flag", False):
            seen.append(new.result.value)
        return new

    @task(state_handlers=[alert])
    def critical() -> None:
        sig = FAIL("a equaled b!")
        sig.flag = True  # type: ignore[attr-defined]
        sig.value = 1  # type: ignore[attr-defined]
        raise sig

    state = await run_one(critical)
    assert isinstance(state, Failed) and state.message == "a equaled b!"
    assert seen == [1]


async def test_signals_are_not_swallowed_by_except_exception() -> None:
    @task
    def sneaky() -> None:
        try:
            raise SKIP("skip me")
        except Exception:
            pytest.fail("the signal was swallowed")

    assert isinstance(await run_one(sneaky), Skipped)


async def test_success_signal_with_result() -> None:
    @task
    async def early() -> None:
        raise SUCCESS("done early", result=42)

    state = await run_one(early)
    assert isinstance(state, Success) and state.result == 42


async def test_endrun_sets_the_exact_state() -> None:
    @task
    def ender() -> None:
        raise ENDRUN(Skipped("not today"))

    state = await run_one(ender)
    assert isinstance(state, Skipped) and state.message == "not today"
    with pytest.raises(TypeError, match="ENDRUN takes a State"):
        ENDRUN("nope")  # type: ignore[arg-type]


async def test_retry_signal_retries_now() -> None:
    calls = {"n": 0}

    @task
    def once_more() -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RETRY("try again")
        return calls["n"]

    state = await run_one(once_more)
    assert state.result == 2


async def test_loop_signal_runs_again_with_loop_context() -> None:
    rec = Recorder()
    seen: list[tuple[int, Any]] = []

    @task(state_handlers=[rec])
    def countdown() -> str:
        seen.append((context.task_loop_count, context.get("task_loop_result")))
        n = context.get("task_loop_result") or 3
        if n > 1:
            raise LOOP(result=n - 1)
        return "liftoff"

    state = await run_one(countdown)
    assert state.result == "liftoff"
    assert seen == [(1, None), (2, 2), (3, 1)]
    assert rec.for_("countdown") == [
        ("Pending", "Running"), ("Running", "Looped"), ("Looped", "Running"),
        ("Running", "Looped"), ("Looped", "Running"), ("Running", "Success"),
    ]
    assert isinstance(rec.states[1][1], Looped)
