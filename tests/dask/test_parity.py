"""The same flow run locally and on Dask ends in exactly the same states."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from asyncflow import Flow, context, signals, task, triggers
from asyncflow.executors import DaskExecutor
from asyncflow.states import Mapped, State, Success

pytestmark = pytest.mark.anyio


@task
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@task
def reciprocal(x: int) -> float:
    if x == 3:
        raise ZeroDivisionError(f"no reciprocal for {x} today")
    return 1 / x


@task
async def async_shout(word: str) -> str:
    await asyncio.sleep(0)
    return word.upper()


@task
def explode() -> None:
    raise ValueError("boom", 42)


@task
def after_explode(x: Any) -> str:
    return "never runs"


@task
def skip_it() -> None:
    raise signals.SKIP("not today")


@task
def after_skip(x: Any) -> str:
    return "skipped as well"


@task(max_retries=2, retry_delay=0)
def flaky() -> int:
    if context.task_run_count < 2:
        raise ConnectionError("try again")
    return int(context.task_run_count)


@task
async def countdown() -> int:
    left = 3 if context.task_loop_result is None else int(context.task_loop_result)
    if left > 0:
        raise signals.LOOP(f"{left} to go", result=left - 1)
    return -1


@task(timeout=0.1)
async def too_slow() -> None:
    await asyncio.Event().wait()


@task
def fail_with_result() -> None:
    raise signals.FAIL("failed on purpose", result={"why": "a test"})


@task
def end_it() -> None:
    raise signals.ENDRUN(Success("done early", result="early"))


@task(trigger=triggers.any_failed)
def cleanup(x: Any) -> str:
    return "cleaned"


def build() -> Flow:
    with Flow("parity") as flow:
        reciprocal.map(numbers())
        async_shout.map(["a", "b"])
        boom = explode()
        after_explode(boom)
        cleanup(boom)
        after_skip(skip_it())
        flaky()
        countdown()
        too_slow()
        fail_with_result()
        end_it()
    return flow


def normalize(value: Any) -> Any:
    if isinstance(value, signals.Signal):
        carried = value.state.result
        return (type(value), value.message,
                "itself" if carried is value else normalize(carried))
    if isinstance(value, BaseException):
        return (type(value), value.args)
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def describe(state: State) -> Any:
    described = (type(state), state.message, state.run_count, state.map_index,
                 normalize(state.result) if not isinstance(state, Mapped) else None)
    if isinstance(state, Mapped):
        return (*described, [describe(s) for s in state.map_states])
    return described


async def test_local_and_dask_runs_end_in_the_same_states(address: str) -> None:
    flow = build()
    local = await flow.run()
    remote = await flow.run(executor=DaskExecutor(address))
    assert (type(remote), remote.message) == (type(local), local.message)
    by_name_local = {t.name: describe(s) for t, s in local.result.items()}
    by_name_remote = {t.name: describe(s) for t, s in remote.result.items()}
    assert by_name_remote == by_name_local
    # The flow covers the outcomes it is meant to.
    kinds = {d[0].__name__ for d in by_name_local.values()}
    assert kinds >= {"Success", "Mapped", "Failed", "TriggerFailed", "Skipped", "TimedOut"}
    assert by_name_local["countdown"][4] == -1
