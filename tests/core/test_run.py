"""Running flows: results, final states, sync and async bodies, contexts."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from asyncflow import Flow, Parameter, Task, context, task
from asyncflow.states import Failed, Pending, Success, TriggerFailed

pytestmark = pytest.mark.anyio


@task
def add(x: int, y: int = 1) -> int:
    return x + y


@task
async def async_add(x: int, y: int = 1) -> int:
    await anyio.lowlevel.checkpoint()
    return x + y


class AddTask(Task[int]):
    def run(self, x: int, y: int) -> int:
        return x + y


async def test_seed_flow_results() -> None:
    with Flow("my handled flow!") as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)
    state = await flow.run()
    assert isinstance(state, Success)
    assert state.message == "All reference tasks succeeded."
    assert state.result[first_result].result == 3
    assert state.result[second_result].result == 103
    assert state.result[first_result]._result.value == 3
    assert set(state.result) == flow.tasks
    assert state._result.value is state.result


async def test_async_and_sync_bodies_and_task_subclasses_mix() -> None:
    a = AddTask(name="a")
    with Flow("f") as flow:
        x = async_add(1, 2)
        y = a(x=x, y=10)
        z = add(y)
    state = await flow.run()
    assert state.result[z].result == 14


async def test_sync_bodies_run_in_worker_threads_and_async_ones_on_the_loop() -> None:
    seen: dict[str, bool] = {}

    @task
    def sync_body() -> None:
        seen["sync_on_main"] = threading.current_thread() is threading.main_thread()

    @task
    async def async_body() -> None:
        seen["async_on_main"] = threading.current_thread() is threading.main_thread()

    with Flow("f") as flow:
        sync_body()
        async_body()
    await flow.run()
    assert seen == {"sync_on_main": False, "async_on_main": True}


async def test_failure_propagates_as_trigger_failed_and_fails_the_flow() -> None:
    @task
    def boom() -> None:
        raise ValueError("bad")

    with Flow("f") as flow:
        b = boom()
        after = add(b)
    state = await flow.run()
    assert isinstance(state, Failed)
    assert state.message == "Some reference tasks failed."
    assert isinstance(state.result[b], Failed)
    assert isinstance(state.result[b].result, ValueError)
    assert "ValueError('bad')" in (state.result[b].message or "")
    assert isinstance(state.result[after], TriggerFailed)


async def test_reference_tasks_decide_the_final_state() -> None:
    @task
    def boom() -> None:
        raise ValueError("bad")

    with Flow("f") as flow:
        ok = add(1)
        boom()
    flow.set_reference_tasks([ok])
    state = await flow.run()
    assert isinstance(state, Success)


async def test_parameters_and_defaults() -> None:
    with Flow("f") as flow:
        x = Parameter("x")
        y = Parameter("y", default=10)
        total = add(x, y)
    state = await flow.run(parameters={"x": 5})
    assert state.result[total].result == 15
    assert state.result[x]._result.location == "5"
    state = await flow.run(parameters={"x": 5, "y": 1})
    assert state.result[total].result == 6


async def test_required_parameter_with_default_none() -> None:
    with Flow("f") as flow:
        p = Parameter("p", default=None)
    state = await flow.run()
    assert state.result[p].result is None


async def test_context_is_per_task_also_in_threads() -> None:
    seen: dict[str, Any] = {}

    @task
    def sync_ctx() -> None:
        seen["sync"] = (context.task_name, context.flow_name, context.get("map_index"),
                        context.task_run_count, context.parameters)

    @task
    async def async_ctx() -> None:
        seen["async"] = (context.task_name, context.flow_run_id, context.task_full_name)

    with Flow("ctx-flow") as flow:
        sync_ctx()
        async_ctx()
    state = await flow.run(context={"custom": 1})
    assert state.is_successful()
    assert seen["sync"] == ("sync_ctx", "ctx-flow", None, 1, {})
    assert seen["async"][0] == "async_ctx" and seen["async"][2] == "async_ctx"
    assert len(seen["async"][1]) == 36


async def test_context_has_dates_user_keys_and_a_logger() -> None:
    seen: dict[str, Any] = {}

    @task
    async def look() -> None:
        seen.update(context.to_dict())
        context.logger.info("hello from %s", context.task_name)

    with Flow("f") as flow:
        look()
    await flow.run(context={"custom": 7})
    assert seen["custom"] == 7
    assert len(seen["today"]) == 10 and len(seen["today_nodash"]) == 8
    assert seen["date"].tzinfo is not None
    assert {"yesterday", "tomorrow", "task_slug", "task_tags", "task_run_id"} <= set(seen)


async def test_context_is_empty_outside_runs() -> None:
    assert context.get("flow_name") is None
    assert "flow_name" not in context
    with context(flow_name="manual"):
        assert context.flow_name == "manual"
    with pytest.raises(AttributeError, match=r"context\.get"):
        context.flow_name  # noqa: B018


async def test_tasks_never_reached_are_reported_pending() -> None:
    from asyncflow.signals import PAUSE

    @task
    def pause() -> None:
        raise PAUSE("wait for approval")

    with Flow("f") as flow:
        p = pause()
        after = add(1, upstream_tasks=[p])
    state = await flow.run()
    assert not state.is_successful()
    assert state.result[p].is_paused()
    assert isinstance(state.result[after], Pending)
    assert state.result[after].message == "Task not run."


async def test_independent_tasks_run_concurrently() -> None:
    started = 0
    both_started = anyio.Event()

    @task
    async def wait_for_other() -> None:
        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        await both_started.wait()

    with Flow("f") as flow:
        wait_for_other()
        wait_for_other()
    with anyio.fail_after(5):
        state = await flow.run()
    assert state.is_successful()


async def test_a_flow_can_run_many_times_and_concurrently() -> None:
    with Flow("f") as flow:
        x = Parameter("x")
        out = async_add(x)
    async with anyio.create_task_group() as tg:
        results: dict[int, int] = {}

        async def one(i: int) -> None:
            results[i] = (await flow.run(parameters={"x": i})).result[out].result

        for i in range(20):
            tg.start_soon(one, i)
    assert results == {i: i + 1 for i in range(20)}


def test_run_sync_from_sync_code() -> None:
    with Flow("f") as flow:
        t = add(41)
    assert flow.run_sync().result[t].result == 42


def test_asyncio_run_of_flow_run_as_in_the_quick_start() -> None:
    # asyncio.run reprs its task on the way out, which looks at the coroutine's cr_code.
    with Flow("f") as flow:
        t = add(41)
    assert asyncio.run(flow.run()).result[t].result == 42


async def test_empty_flow_succeeds() -> None:
    state = await Flow("empty").run()
    assert isinstance(state, Success) and state.result == {}


async def test_observers_see_every_transition_and_are_opened_and_closed() -> None:
    seen: list[tuple[str, str, str]] = []
    lifecycle: list[str] = []

    class Watcher:
        def __call__(self, obj: Any, old: Any, new: Any) -> None:
            seen.append((obj.name, type(old).__name__, type(new).__name__))

        async def open(self) -> None:
            lifecycle.append(f"open {context.flow_name}")

        async def close(self) -> None:
            lifecycle.append("close")

    with Flow("watched") as flow:
        add(1)
    await flow.run(observers=[Watcher()])
    assert lifecycle == ["open watched", "close"]
    assert seen == [("watched", "Scheduled", "Running"), ("add", "Pending", "Running"),
                    ("add", "Running", "Success"), ("watched", "Running", "Success")]


async def test_an_observer_may_offer_a_plain_function_to_call_instead() -> None:
    called: list[str] = []

    class Watcher:
        def __call__(self, obj: Any, old: Any, new: Any) -> None:
            called.append("__call__")

        def observe(self, obj: Any, old: Any, new: Any) -> None:
            called.append(f"observe {type(new).__name__}")

    with Flow("watched") as flow:
        add(1)
    await flow.run(observers=[Watcher()])
    assert called == ["observe Running", "observe Running", "observe Success",
                      "observe Success"]
