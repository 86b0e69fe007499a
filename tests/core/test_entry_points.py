"""How Prefect 1.x code starts a run and finds names: ``flow.run()`` from sync code,
``FlowRunner``, import paths, and errors that are also the built-in type Prefect raised."""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import asyncflow
from asyncflow import Flow, FlowRunError, Parameter, Task, task
from asyncflow.engine import FlowRunner
from asyncflow.exceptions import CycleError, TaskArgumentError


@task
def one() -> int:
    return 1


@task
def plus(x: int) -> int:
    return x + 1


def build() -> tuple[Flow, Task[Any], Task[Any]]:
    with Flow("f") as flow:
        a = one()
        b = plus(a)
    return flow, a, b


def test_an_unawaited_run_used_as_a_state_fails_with_the_fix() -> None:
    flow, _, _ = build()
    call = flow.run()
    try:
        with pytest.raises(FlowRunError, match=r"state = await flow\.run\(\)") as caught:
            call.result  # type: ignore[attr-defined]  # noqa: B018 - the misuse under test
        assert "run_sync" in str(caught.value)
    finally:
        call.close()


def test_an_unawaited_run_that_is_dropped_logs_an_error(caplog: pytest.LogCaptureFixture) -> None:
    flow, _, _ = build()
    with caplog.at_level(logging.ERROR, logger="asyncflow.engine"):
        flow.run()  # type: ignore[unused-coroutine]
        gc.collect()
    assert any("never awaited" in r.getMessage() for r in caplog.records)


def test_a_plain_script_calling_flow_run_is_told_what_to_write() -> None:
    script = textwrap.dedent("""
        from asyncflow import Flow, task

        @task
        def one():
            return 1

        with Flow("f") as flow:
            one()
        state = flow.run()
        print(state.result)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "FlowRunError" in done.stderr and "flow.run_sync()" in done.stderr


@pytest.mark.anyio
async def test_the_same_call_awaited_runs_the_flow() -> None:
    flow, _, b = build()
    state = await flow.run()
    assert state.result[b].result == 2


def test_run_sync_and_flow_runner_run_from_sync_code() -> None:
    flow, _, b = build()
    assert flow.run_sync().result[b].result == 2
    state = FlowRunner(flow).run(return_tasks=[b])
    assert state.is_successful()
    assert set(state.result) == {b}
    assert state.result[b].result == 2


def test_flow_runner_resumes_from_given_task_states() -> None:
    from asyncflow.states import Success

    flow, a, b = build()
    state = FlowRunner(flow=flow).run(task_states={a: Success(result=41)}, return_tasks=[b])
    assert state.result[b].result == 42


def test_flow_runner_refuses_unknown_return_tasks() -> None:
    flow, _, _ = build()
    with pytest.raises(FlowRunError, match="not in flow 'f'"):
        FlowRunner(flow).run(return_tasks=[one.copy()])


@pytest.mark.anyio
async def test_blocking_runs_refuse_inside_a_running_loop() -> None:
    flow, _, b = build()
    with pytest.raises(FlowRunError, match="arun"):
        FlowRunner(flow).run()
    assert (await FlowRunner(flow).arun(return_tasks=[b])).result[b].result == 2


@pytest.mark.parametrize(("name", "where"), [
    ("LocalResult", "asyncflow.results"),
    ("NoResult", "asyncflow.results"),
    ("Success", "asyncflow.states"),
    ("FAIL", "asyncflow.signals"),
    ("Constant", "asyncflow.tasks"),
    ("FlowRunner", "asyncflow.engine"),
    ("LocalExecutor", "asyncflow.executors"),
])
def test_a_name_that_lives_elsewhere_says_where(name: str, where: str) -> None:
    with pytest.raises(AttributeError, match=f"from {where} import {name}"):
        getattr(asyncflow, name)
    assert hasattr(__import__(where, fromlist=[name]), name)


def test_unknown_names_are_plain_attribute_errors() -> None:
    with pytest.raises(AttributeError, match=r"no attribute 'NoSuchThing'$"):
        asyncflow.NoSuchThing  # noqa: B018


def test_local_dask_executor_points_to_what_to_use_instead() -> None:
    import asyncflow.executors as executors

    with pytest.raises(AttributeError, match=r"LocalExecutor.*DaskExecutor"):
        executors.LocalDaskExecutor  # noqa: B018


def test_dir_lists_the_public_api_only() -> None:
    listed = dir(asyncflow)
    assert "annotations" not in listed
    assert listed == sorted(asyncflow.__all__)


def test_build_errors_are_also_the_built_in_types_prefect_raised() -> None:
    with pytest.raises(TypeError), Flow("f"):
        plus(1, 2)
    with pytest.raises(TaskArgumentError), Flow("f"):
        plus(1, 2)
    with pytest.raises(ValueError, match="already has a parameter named 'p'"), Flow("f"):
        Parameter("p")
        Parameter("p")
    with pytest.raises(ValueError), Flow("f"):
        a = one()
        a.set_upstream(a)
    with pytest.raises(CycleError), Flow("f"):
        a = one()
        a.set_upstream(a)


@pytest.mark.anyio
async def test_an_unawaited_run_can_be_made_a_task_and_formatted() -> None:
    flow, _, b = build()
    call = flow.run()
    assert not hasattr(call, "cr_code")  # asyncio's task repr looks for it
    running = asyncio.get_running_loop().create_task(call)
    assert repr(running).startswith("<Task")  # formatting it does not raise
    assert (await running).result[b].result == 2
