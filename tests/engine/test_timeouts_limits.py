"""Timeouts and concurrency limits."""

from __future__ import annotations

import datetime
import threading

import anyio
import pytest

from asyncflow import Flow, FlowDefinitionError, task
from asyncflow.states import Cancelled, Success, TimedOut

from ..core.recorder import Recorder

pytestmark = pytest.mark.anyio


async def test_async_body_is_cancelled_at_its_timeout() -> None:
    rec = Recorder()
    cancelled = anyio.Event()

    @task(timeout=0.05, state_handlers=[rec])
    async def slow() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    with Flow("f") as flow:
        s = slow()
    state = await flow.run()
    assert isinstance(state.result[s], TimedOut)
    assert cancelled.is_set()
    assert rec.for_("slow")[-1] == ("Running", "TimedOut")


async def test_timed_out_task_is_retried() -> None:
    attempts = {"n": 0}

    @task(timeout=datetime.timedelta(milliseconds=50), max_retries=1, retry_delay=0)
    async def slow_then_fast() -> str:
        attempts["n"] += 1
        if attempts["n"] == 1:
            await anyio.sleep_forever()
        return "fast"

    with Flow("f") as flow:
        s = slow_then_fast()
    state = await flow.run()
    assert state.result[s].result == "fast"


async def test_sync_body_times_out_with_a_warning() -> None:
    release = threading.Event()

    @task(timeout=0.05)
    def blocking() -> None:
        release.wait(10)

    with Flow("f") as flow:
        b = blocking()
    with pytest.warns(RuntimeWarning, match="thread was abandoned"):
        state = await flow.run()
    release.set()
    assert isinstance(state.result[b], TimedOut)


async def test_flow_timeout_cancels_everything() -> None:
    rec = Recorder()

    @task(state_handlers=[rec])
    async def forever() -> None:
        await anyio.sleep_forever()

    @task(state_handlers=[rec])
    async def after(x: None) -> None: ...

    with Flow("f") as flow:
        f = forever()
        a = after(f)
    state = await flow.run(timeout=0.05)
    assert isinstance(state, TimedOut)
    assert isinstance(state.result[f], Cancelled)
    assert isinstance(state.result[a], Cancelled)
    assert ("Running", "Cancelled") in rec.for_("forever")
    assert rec.for_("after") == [("Pending", "Cancelled")]


async def test_max_concurrency_bounds_running_bodies() -> None:
    running = 0
    peak = 0

    @task
    async def work(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.001)
        running -= 1
        return x

    with Flow("f") as flow:
        m = work.map(list(range(40)))
    state = await flow.run(max_concurrency=3)
    assert state.result[m].result == list(range(40))
    assert peak == 3


async def test_tag_limits_are_shared_across_concurrent_runs() -> None:
    running = 0
    peak = 0

    @task(tags=["db"])
    async def query(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.001)
        running -= 1
        return x

    with Flow("f") as flow:
        query.map(list(range(10)))
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(lambda: flow.run(task_concurrency_limits={"db": 2}))
    assert peak == 2


async def test_a_mapped_task_holding_the_limit_does_not_deadlock() -> None:
    @task(tags=["one"])
    async def parent_like(x: int) -> list[int]:
        return [x, x + 1]

    @task(tags=["one"])
    async def child(x: int) -> int:
        return x

    with Flow("f") as flow:
        lists = parent_like.map([1, 2, 3])
        from asyncflow import flatten

        out = child.map(flatten(lists))
    with anyio.fail_after(5):
        state = await flow.run(task_concurrency_limits={"one": 1}, max_concurrency=1)
    assert state.result[out].result == [1, 2, 2, 3, 3, 4]


async def test_a_timeout_under_a_concurrency_limit() -> None:
    @task(timeout=0.05)
    async def maybe_slow(x: int) -> int:
        if x == 0:
            await anyio.sleep_forever()
        return x

    with Flow("f") as flow:
        m = maybe_slow.map([0, 1, 2])
    with anyio.fail_after(5):
        state = await flow.run(max_concurrency=1)
    kinds = [type(s) for s in state.result[m].map_states]
    assert kinds == [TimedOut, Success, Success]


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(FlowDefinitionError, match="max_concurrency must be an int >= 1"):
        Flow("f", max_concurrency=0)
    flow = Flow("f")
    with pytest.raises(FlowDefinitionError, match="max_concurrency"):
        flow.run_sync(max_concurrency=0)
    with pytest.raises(FlowDefinitionError, match="tag 'db'"):
        flow.run_sync(task_concurrency_limits={"db": 0})
