"""Caching, cancellation, pause and resume."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import anyio
import pytest

from asyncflow import Flow, Parameter, cache_validators, task, triggers
from asyncflow.signals import PAUSE
from asyncflow.states import Cached, Paused, Pending, Resume, Success

from ..core.recorder import Recorder

pytestmark = pytest.mark.anyio


async def test_cache_for_caches_then_hits_in_a_later_run() -> None:
    rec = Recorder()
    calls = {"n": 0}

    @task(cache_for=datetime.timedelta(minutes=5), state_handlers=[rec])
    def expensive() -> int:
        calls["n"] += 1
        return 42

    with Flow("f") as flow:
        e = expensive()
    first = await flow.run()
    second = await flow.run()
    assert calls["n"] == 1
    assert rec.for_("expensive") == [
        ("Pending", "Running"), ("Running", "Success"), ("Success", "Cached"),
        ("Pending", "Cached"),
    ]
    assert isinstance(first.result[e], Cached) and first.result[e].result == 42
    assert isinstance(second.result[e], Cached) and second.result[e].result == 42


async def test_all_inputs_validator_reruns_on_new_inputs() -> None:
    calls: list[int] = []

    @task(cache_for=60, cache_validator=cache_validators.all_inputs)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    with Flow("f") as flow:
        s = square(Parameter("x"))
    assert (await flow.run(parameters={"x": 2})).result[s].result == 4
    assert (await flow.run(parameters={"x": 2})).result[s].result == 4
    assert (await flow.run(parameters={"x": 3})).result[s].result == 9
    assert calls == [2, 3]


async def test_partial_parameters_and_never_use() -> None:
    calls: list[str] = []

    @task(cache_for=60, cache_validator=cache_validators.partial_parameters_only(["a"]))
    def by_a() -> None:
        calls.append("a")

    @task(cache_for=60, cache_validator=cache_validators.never_use)
    def never() -> None:
        calls.append("never")

    with Flow("f") as flow:
        Parameter("a")
        Parameter("b")
        by_a()
        never()
    await flow.run(parameters={"a": 1, "b": 1})
    await flow.run(parameters={"a": 1, "b": 2})
    await flow.run(parameters={"a": 2, "b": 2})
    assert calls.count("a") == 2 and calls.count("never") == 3


async def test_expired_cache_reruns() -> None:
    calls = {"n": 0}

    @task(cache_for=0.0, cache_validator=cache_validators.duration_only)
    def quick() -> int:
        calls["n"] += 1
        return 1

    with Flow("f") as flow:
        quick()
    await flow.run()
    await flow.run()
    assert calls["n"] == 2


async def test_cancelling_the_caller_cancels_every_task_and_notifies_handlers() -> None:
    rec = Recorder()
    started = anyio.Event()
    cleaned_up = anyio.Event()
    thread_may_finish = threading.Event()

    @task(state_handlers=[rec])
    async def forever(x: int) -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cleaned_up.set()

    @task(state_handlers=[rec])
    def blocking_in_thread() -> None:
        thread_may_finish.wait(5)

    @task(state_handlers=[rec])
    async def never_started(x: Any) -> None: ...

    with Flow("f", state_handlers=[rec]) as flow:
        f = forever.map([1, 2])
        never_started(f)
        blocking_in_thread()

    async with anyio.create_task_group() as tg:
        tg.start_soon(flow.run)
        await started.wait()
        thread_may_finish.set()
        tg.cancel_scope.cancel()
    assert cleaned_up.is_set()
    assert rec.for_("f")[-1] == ("Running", "Cancelled")
    assert ("Running", "Cancelled") in rec.for_("forever")
    assert rec.for_("never_started") == [("Pending", "Cancelled")]


async def test_cancellation_during_retry_wait() -> None:
    rec = Recorder()
    failed_once = anyio.Event()

    @task(max_retries=3, retry_delay=3600, state_handlers=[rec])
    def fails() -> None:
        raise ConnectionError("down")

    async def signal(obj: Any, old: Any, new: Any) -> None:
        if new.is_retrying():
            failed_once.set()

    fails.state_handlers = (*fails.state_handlers, signal)
    with Flow("f") as flow:
        fails()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(flow.run)
            await failed_once.wait()
            tg.cancel_scope.cancel()
    assert rec.for_("fails")[-1] == ("Retrying", "Cancelled")


async def test_pause_then_resume_with_task_states() -> None:
    ran: list[str] = []

    @task
    def extract() -> int:
        ran.append("extract")
        return 1

    @task(trigger=triggers.manual_only)
    def approve(x: int) -> int:
        ran.append("approve")
        return x + 1

    @task
    def load(x: int) -> int:
        ran.append("load")
        return x * 10

    with Flow("f") as flow:
        e = extract()
        a = approve(e)
        ld = load(a)
    first = await flow.run()
    assert isinstance(first, Paused) and not first.is_successful()
    assert isinstance(first.result[a], Paused)
    assert isinstance(first.result[ld], Pending)
    assert ran == ["extract"]

    second = await flow.run(task_states=first.result)
    assert isinstance(second, Success)
    assert second.result[ld].result == 20
    assert ran == ["extract", "approve", "load"]  # extract was not run again


async def test_pause_signal_and_explicit_resume_state() -> None:
    calls = {"n": 0}

    @task
    def gate() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise PAUSE("needs a human")
        return "approved"

    with Flow("f") as flow:
        g = gate()
    first = await flow.run()
    assert isinstance(first.result[g], Paused)
    second = await flow.run(task_states={g: Resume()})
    assert second.result[g].result == "approved"


async def test_nothing_is_left_running_after_run_returns() -> None:
    @task(timeout=0.05)
    async def slow(x: int) -> None:
        await anyio.sleep_forever()

    with Flow("f") as flow:
        slow.map(list(range(20)))
    import asyncio

    before = len(asyncio.all_tasks())
    await flow.run(timeout=1)
    assert len(asyncio.all_tasks()) == before
