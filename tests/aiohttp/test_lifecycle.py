"""The run manager's life: started and stopped with the app, bounded shutdown, bad setup."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import pytest
from aiohttp import web

from asyncflow import Flow, FlowRunError, ParameterError, task
from asyncflow._core._exceptions import ConfigError
from asyncflow.contrib.aiohttp import (
    RunManager,
    RunManagerClosedError,
    UnknownFlowError,
    UnknownRunError,
    run_manager_key,
    setup,
)
from asyncflow.states import State

from .helpers import Gate, numbers_flow, read_all_events, read_until, serve, transitions


@pytest.mark.anyio
async def test_shutdown_cancels_running_flows_and_ends_their_streams() -> None:
    gate = Gate()
    app = web.Application()
    manager = setup(app, flows=[gate.flow])
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/gated/runs", json={})).json())["run_id"]
        await gate.wait_started()
        stream = await client.get(f"/flows/runs/{run_id}/events")
        await read_until(stream, "transition", task="wait", new="Running")

        with anyio.fail_after(10):
            await client.server.close()
        rest = await read_all_events(stream)

    run = manager.get(run_id)
    assert run.done
    assert run.state.name == "Cancelled"
    assert gate.handled == ["Running", "Cancelled"]  # the task's handler was awaited
    assert transitions(rest, "wait") == [("Running", "Cancelled")]
    assert transitions(rest) == [("Running", "Cancelled")]
    assert rest[-1].event == "end"
    assert rest[-1].data["state"] == "Cancelled"
    with pytest.raises(RunManagerClosedError, match="shutting down"):
        manager.submit("gated")


@pytest.mark.anyio
async def test_startup_and_cleanup_may_run_in_different_tasks() -> None:
    gate = Gate()
    app = web.Application()
    manager = setup(app, flows=[gate.flow])
    app.freeze()

    async with anyio.create_task_group() as startup:
        startup.start_soon(app.startup)
    run = manager.submit("gated")
    await gate.wait_started()
    async with anyio.create_task_group() as cleanup:
        cleanup.start_soon(app.cleanup)

    assert run.done
    assert run.state.name == "Cancelled"
    assert gate.handled == ["Running", "Cancelled"]


@pytest.mark.anyio
async def test_shutdown_waits_for_cancelled_runs_only_up_to_its_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = Gate()
    release = asyncio.Event()

    async def slow_goodbye(obj: Any, old: State, new: State) -> State:
        if new.is_cancelled():
            await release.wait()
        return new

    with Flow("stubborn", state_handlers=[slow_goodbye]) as flow:
        gate.wait_task("x")
    manager = RunManager([flow], shutdown_timeout=0.2)
    await manager.start()
    run = manager.submit("stubborn")
    await gate.wait_started()

    with caplog.at_level(logging.WARNING, logger="asyncflow.contrib.aiohttp"), anyio.fail_after(10):
        await manager.aclose()

    assert not run.done
    assert "did not end within shutdown_timeout=0.2s" in caplog.text
    assert run.id in caplog.text
    release.set()
    with anyio.fail_after(10):
        assert (await run.wait()).name == "Cancelled"
        await manager.aclose()  # the owner task has ended too


@pytest.mark.anyio
async def test_a_run_cancelled_before_it_starts_never_starts() -> None:
    gate = Gate()
    async with RunManager([gate.flow]) as manager:
        run = manager.submit("gated")
        manager.cancel(run.id)

        with anyio.fail_after(10):
            state = await run.wait()

    assert state.name == "Cancelled"
    assert state.message == "Run was cancelled before it started."
    assert gate.entered == []
    assert run.to_json()["tasks"][0]["state"] == "Pending"


@pytest.mark.anyio
async def test_the_manager_refuses_runs_before_start_and_after_close() -> None:
    manager = RunManager([numbers_flow()])
    with pytest.raises(RunManagerClosedError, match="not started"):
        manager.submit("numbers", {"n": 1})

    async with manager:
        with anyio.fail_after(10):
            assert (await manager.submit("numbers", {"n": 1}).wait()).is_successful()
        with pytest.raises(FlowRunError, match="already started"):
            await manager.start()

    with pytest.raises(RunManagerClosedError, match="shutting down"):
        manager.submit("numbers", {"n": 1})


@pytest.mark.anyio
async def test_the_manager_checks_names_and_parameters_before_accepting() -> None:
    async with RunManager([numbers_flow()]) as manager:
        with pytest.raises(UnknownFlowError, match="no flow named 'letters'"):
            manager.submit("letters")
        with pytest.raises(ParameterError, match="missing required parameters"):
            manager.submit("numbers")
        with pytest.raises(UnknownRunError, match="no run with id 'x'"):
            manager.get("x")
        assert manager.runs() == []


@pytest.mark.anyio
async def test_run_context_reaches_the_tasks() -> None:
    seen: list[Any] = []

    @task
    async def look() -> None:
        from asyncflow import context

        seen.append((context.service, context.flow_run_id))

    with Flow("look") as flow:
        look()
    app = web.Application()
    manager = setup(app, flows=[flow], run_context=lambda request: {"service": request.path})
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/look/runs")).json())["run_id"]
        with anyio.fail_after(10):
            await manager.get(run_id).wait()

    assert seen == [("/flows/look/runs", run_id)]


def test_setup_stores_the_manager_under_its_app_key() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()])

    assert app[run_manager_key] is manager
    assert sorted(manager.flows) == ["numbers"]


@pytest.mark.parametrize(
    ("flows", "options", "message"),
    [
        (lambda: [numbers_flow(), numbers_flow()], {}, "two flows are named 'numbers'"),
        (lambda: [Flow("a/b")], {}, "cannot be used in a URL path"),
        (lambda: [], {}, "no flows given"),
        (lambda: ["numbers"], {}, "must be Flow objects"),
        (lambda: [numbers_flow()], {"prefix": "flows"}, "prefix must start with '/'"),
        (lambda: [numbers_flow()], {"max_concurrent_runs": 0}, "max_concurrent_runs must be"),
        (lambda: [numbers_flow()], {"keep_finished_runs": -1}, "keep_finished_runs must be"),
        (lambda: [numbers_flow()], {"shutdown_timeout": 0}, "shutdown_timeout must be"),
        (lambda: [numbers_flow()], {"run_options": {"retries": 3}}, "unknown keys ['retries']"),
        (lambda: [numbers_flow()], {"run_context": 42}, "run_context must be"),
    ],
)
def test_setup_rejects_bad_arguments_with_the_fix(
    flows: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        setup(web.Application(), flows=flows(), **options)


def test_setup_twice_on_one_app_is_refused() -> None:
    app = web.Application()
    setup(app, flows=[numbers_flow()])

    with pytest.raises(ConfigError, match="already called"):
        setup(app, flows=[numbers_flow()], prefix="/more")


@pytest.mark.anyio
async def test_parameters_must_be_a_mapping() -> None:
    async with RunManager([numbers_flow()]) as manager:
        with pytest.raises(ParameterError, match="must be a mapping"):
            manager.submit("numbers", [1])  # type: ignore[arg-type]
