"""State handlers: exact transition sequences, ordering, replacement and failures."""

from __future__ import annotations

import datetime
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from asyncflow import Flow, Task, task
from asyncflow._core._callbacks import callback_factory
from asyncflow.signals import SKIP
from asyncflow.states import Failed, Retrying, State, Success

from .recorder import Recorder

pytestmark = pytest.mark.anyio


async def test_flow_transitions() -> None:
    rec = Recorder()
    flow = Flow("f", tasks=[Task()], state_handlers=[rec])
    await flow.run()
    assert rec.for_("f") == [("Scheduled", "Running"), ("Running", "Success")]
    assert str(rec.states[0][1]) == 'Running("Running flow.")'
    assert str(rec.states[1][1]) == 'Success("All reference tasks succeeded.")'


async def test_task_transitions() -> None:
    rec = Recorder()
    flow = Flow("f", tasks=[Task(state_handlers=[rec])])
    await flow.run()
    assert rec.for_("Task") == [("Pending", "Running"), ("Running", "Success")]
    assert str(rec.states[1][1]) == 'Success("Task run succeeded.")'


async def test_retry_transitions_and_start_time() -> None:
    rec = Recorder()
    calls = {"n": 0}

    @task(max_retries=2, retry_delay=datetime.timedelta(seconds=0), state_handlers=[rec])
    def flaky() -> int:
        calls["n"] += 1
        if calls["n"] < 2:
            raise ConnectionError("nope")
        return 5

    with Flow("f") as flow:
        t = flaky()
    state = await flow.run()
    assert state.result[t].result == 5
    assert rec.for_("flaky") == [
        ("Pending", "Running"),
        ("Running", "Failed"),
        ("Failed", "Retrying"),
        ("Retrying", "Running"),
        ("Running", "Success"),
    ]
    retrying = rec.states[2][1]
    assert isinstance(retrying, Retrying)
    assert retrying.run_count == 1
    assert retrying.start_time is not None and retrying.start_time.tzinfo is not None
    assert state.result[t].run_count == 2


async def test_upstream_failed_and_skipped_transitions() -> None:
    rec = Recorder()

    @task
    def boom() -> None:
        raise RuntimeError("x")

    @task
    def skip() -> None:
        raise SKIP("nothing to do")

    @task(state_handlers=[rec])
    def after_fail(x: Any) -> None: ...

    @task(state_handlers=[rec])
    def after_skip(x: Any) -> None: ...

    with Flow("f") as flow:
        after_fail(boom())
        after_skip(skip())
    await flow.run()
    assert rec.for_("after_fail") == [("Pending", "TriggerFailed")]
    assert rec.for_("after_skip") == [("Pending", "Skipped")]


async def test_handlers_are_called_in_order_and_may_replace_the_state() -> None:
    order: list[str] = []

    def first(obj: Any, old: State, new: State) -> State:
        order.append(f"first {type(new).__name__}")
        if isinstance(new, Success):
            return Success("rewritten", result=new.result)
        return new

    async def second(obj: Any, old: State, new: State) -> None:
        await anyio.lowlevel.checkpoint()
        order.append(f"second {new.message}")

    with Flow("f") as flow:
        t = Task(state_handlers=[first, second])
        flow.add_task(t)
    state = await flow.run()
    assert order == [
        "first Running",
        "second Starting task run.",
        "first Success",
        "second rewritten",
    ]
    assert state.result[t].message == "rewritten"


async def test_a_raising_handler_fails_the_task_and_the_failure_reaches_handlers() -> None:
    seen: list[tuple[str, str]] = []

    def explode(obj: Any, old: State, new: State) -> None:
        if isinstance(new, Success):
            raise RuntimeError("webhook down")

    def watch(obj: Any, old: State, new: State) -> None:
        seen.append((type(old).__name__, type(new).__name__))

    t = Task(name="guarded", state_handlers=[explode, watch])
    state = await Flow("f", tasks=[t]).run()
    final = state.result[t]
    assert isinstance(final, Failed)
    assert "explode" in (final.message or "") and "webhook down" in (final.message or "")
    assert isinstance(final.result, RuntimeError)
    # watch saw Pending->Running, then the failure (not the Success it never entered).
    assert seen == [("Pending", "Running"), ("Running", "Failed")]
    assert not state.is_successful()


async def test_a_handler_that_raises_again_does_not_recurse() -> None:
    calls = {"n": 0}

    def always_explode(obj: Any, old: State, new: State) -> None:
        calls["n"] += 1
        raise RuntimeError("still down")

    t = Task(state_handlers=[always_explode])
    state = await Flow("f", tasks=[t]).run()
    assert isinstance(state.result[t], Failed)
    assert calls["n"] == 2  # the Running transition, then the Failed delivery


async def test_a_handler_returning_garbage_fails_clearly() -> None:
    def bad(obj: Any, old: State, new: State) -> int:
        return 5

    t = Task(state_handlers=[bad])
    state = await Flow("f", tasks=[t]).run()
    assert "returns a State or None" in (state.result[t].message or "")


async def test_flow_handler_failure_fails_the_flow() -> None:
    def explode(obj: Any, old: State, new: State) -> None:
        if new.is_finished():
            raise RuntimeError("alerting broke")

    state = await Flow("f", tasks=[Task()], state_handlers=[explode]).run()
    assert isinstance(state, Failed) and "alerting broke" in (state.message or "")


async def test_on_failure_and_callback_factory() -> None:
    failures: list[str] = []
    retries: list[datetime.datetime | None] = []

    def on_fail(obj: Any, state: State) -> None:
        failures.append(f"{obj.name}: {state.message}")

    async def on_retry(obj: Any, state: State) -> None:
        retries.append(getattr(state, "start_time", None))

    @task(max_retries=1, retry_delay=0, on_failure=on_fail,
          state_handlers=[callback_factory(on_retry, lambda s: s.is_retrying())])
    def broken() -> None:
        raise ValueError("no")

    with Flow("f", on_failure=on_fail) as flow:
        broken()
    await flow.run()
    assert len(retries) == 1 and retries[0] is not None
    assert failures[0].startswith("broken: Error during execution of task: ValueError('no')")
    assert len(failures) == 3  # two failed attempts, then the flow
    assert failures[2] == "f: Some reference tasks failed."


async def test_one_tasks_slow_handler_does_not_delay_other_tasks() -> None:
    release = anyio.Event()
    other_done = anyio.Event()

    async def slow(obj: Any, old: State, new: State) -> None:
        if new.is_successful():
            await release.wait()

    @task(state_handlers=[slow])
    async def slow_task() -> None: ...

    @task
    async def quick() -> None:
        other_done.set()

    async def releaser() -> None:
        await other_done.wait()
        release.set()

    with Flow("f") as flow:
        slow_task()
        quick()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(releaser)
            state = await flow.run()
    assert state.is_successful()
