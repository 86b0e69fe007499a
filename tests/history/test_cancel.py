"""Cancelling a run through the history (``asyncflow.history.cancel_run``), on both databases:
the request on the run's row, the recording process noticing it, and the refusals."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import anyio
import pytest

from asyncflow import Flow, history as history_api, task
from asyncflow._history._cancel import CANCELLED_MESSAGE
from asyncflow._history._heartbeat import this_process
from asyncflow.cli._errors import EXIT_FAILED, EXIT_USAGE
from asyncflow.history import RunFinishedError, RunNotFoundError
from asyncflow.schedules import IntervalSchedule
from asyncflow.states import Cancelled, State
from tests.history.flow_process import waiting_flow_process

pytestmark = pytest.mark.anyio


class Stuck:
    """A flow (``stuck``): ``prepare``, then ``wait_forever``, which never returns on its
    own; :attr:`started` is set once it waits, :attr:`cancelled` once it is cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

        @task
        def prepare() -> int:
            return 1

        @task
        async def wait_forever(x: int) -> int:
            self.started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return x

        with Flow("stuck") as flow:
            wait_forever(prepare())
        self.flow = flow


async def test_a_run_asked_to_cancel_through_the_history_ends_cancelled(
    history_url: str,
) -> None:
    stuck = Stuck()
    states: list[State] = []

    async def run() -> None:
        states.append(await stuck.flow.run(history=history_url))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await stuck.started.wait()
            (running,) = await history_api.list_runs(url=history_url)
            asked = await history_api.cancel_run(running.flow_run_id, url=history_url)
            assert asked.id == running.id and not asked.is_finished
            assert asked.is_cancelling and asked.cancel_requested_at is not None
            again = await history_api.cancel_run(running.id, url=history_url)
            assert again.cancel_requested_at == asked.cancel_requested_at

    (state,) = states  # flow.run returned: the caller asked for nothing
    assert isinstance(state, Cancelled) and state.message == CANCELLED_MESSAGE
    assert stuck.cancelled.is_set()
    assert {t.name: type(s).__name__ for t, s in state.result.items()} == {
        "prepare": "Success", "wait_forever": "Cancelled"}
    detail = await history_api.get_run(running.id, url=history_url)
    assert (detail.run.state, detail.run.message) == ("Cancelled", CANCELLED_MESSAGE)
    assert not detail.run.is_cancelling
    assert {t.task_name: t.state for t in detail.task_runs} == {
        "prepare": "Success", "wait_forever": "Cancelled"}


async def test_an_unknown_run_cannot_be_cancelled(history_url: str) -> None:
    with pytest.raises(RunNotFoundError, match="no flow run 7 in the history"):
        await history_api.cancel_run(7, url=history_url)
    with pytest.raises(RunNotFoundError, match="no flow run 'nope'"):
        await history_api.cancel_run("nope", url=history_url)


async def test_a_finished_run_cannot_be_cancelled(history_url: str) -> None:
    stuck = Stuck()
    await stuck.flow.run(history=history_url, timeout=0.01)  # ends TimedOut
    with pytest.raises(RunFinishedError,
                       match=r"flow run 1 of 'stuck' .* has already ended \(TimedOut\)"):
        await history_api.cancel_run(1, url=history_url)
    assert (await history_api.get_run(1, url=history_url)).run.cancel_requested_at is None


async def test_a_crashed_run_cannot_be_cancelled(history_url: str) -> None:
    host, _, _ = this_process()
    gone = max(os.getpid() + 100_000, 4_000_000)  # beyond any pid in use here
    async with history_api.connect(history_url) as db:
        run = await db.create_flow_run(
            flow_run_id="killed", flow_name="stuck", state="Running", parameters="{}",
            started_at=time.time(), task_count=0, graph=None, process=(host, gone, None))
    with pytest.raises(RunFinishedError, match=r"crashed .* nothing is running to cancel"):
        await history_api.cancel_run(run, url=history_url)


async def test_a_run_of_another_process_cancelled_through_the_history_ends_and_the_process_exits(
    history_url: str, tmp_path: Path
) -> None:
    async with waiting_flow_process(tmp_path, history_url) as flow_process:
        (running,) = await history_api.list_runs(url=history_url)
        assert running.pid == flow_process.process.pid and running.state == "Running"
        asked = await history_api.cancel_run(running.id, url=history_url)
        assert asked.is_cancelling
        assert await flow_process.exit_code() == EXIT_FAILED  # the flow did not succeed
    assert flow_process.cancelled_file.read_text() == "cancelled"
    detail = await history_api.get_run(running.id, url=history_url)
    assert (detail.run.state, detail.run.message) == ("Cancelled", CANCELLED_MESSAGE)
    assert {t.task_name: t.state for t in detail.task_runs} == {
        "prepare": "Success", "wait_forever": "Cancelled"}


async def _cli(*args: str) -> tuple[int, str, str]:
    done = await anyio.run_process([sys.executable, "-m", "asyncflow.cli", *args],
                                   check=False, env={**os.environ,
                                                     "PYTHONPATH": os.pathsep.join(sys.path)})
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_asyncflow_cancel_cancels_a_run_of_another_process_and_says_what_it_cannot(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with waiting_flow_process(tmp_path, sqlite_url) as flow_process:
        assert await _cli("cancel", "1", "--history", sqlite_url) == (
            0, "Cancelled flow run 1 of 'waiting'.\n", "")
        assert await flow_process.exit_code() == EXIT_FAILED
    assert flow_process.cancelled_file.read_text() == "cancelled"
    assert (await history_api.get_run(1, url=sqlite_url)).run.state == "Cancelled"

    code, out, err = await _cli("cancel", "1", "--history", sqlite_url)
    assert (code, out) == (EXIT_FAILED, "")
    assert err.startswith("asyncflow: error: flow run 1 of 'waiting'")
    assert "has already ended (Cancelled): there is nothing to cancel" in err
    code, out, err = await _cli("cancel", "2", "--history", sqlite_url)
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith("asyncflow: error: no flow run 2 in the history at")


async def test_asyncflow_cancel_names_an_unreachable_database_without_its_password() -> None:
    code, out, err = await _cli("cancel", "1", "--history",
                                "postgresql://etl:s3cret@127.0.0.1:1/history")
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith("asyncflow: error: cannot ask for the run to be cancelled: cannot "
                          "connect to the history database postgresql://etl:***@127.0.0.1:1/")
    assert "s3cret" not in err


async def test_a_scheduled_run_asked_to_cancel_ends_and_the_schedule_goes_on(
    sqlite_url: str,
) -> None:
    started = [asyncio.Event(), asyncio.Event()]

    @task
    async def wait_forever() -> None:
        started[1 if started[0].is_set() else 0].set()
        await asyncio.Event().wait()

    with Flow("every-tick", schedule=IntervalSchedule(0.05)) as flow:
        wait_forever()

    async def on_schedule() -> None:
        await flow.run(history=sqlite_url, run_on_schedule=True)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(on_schedule)
            await started[0].wait()
            await history_api.cancel_run(1, url=sqlite_url)
            await started[1].wait()  # the next run of the schedule
            tg.cancel_scope.cancel()
    second, first = await history_api.list_runs(url=sqlite_url)
    assert (first.id, first.state, first.message) == (1, "Cancelled", CANCELLED_MESSAGE)
    assert (second.id, second.state) == (2, "Cancelled")
    assert second.cancel_requested_at is None  # stopped with the schedule, not on request
