"""Heartbeats on flow-run rows, the Crashed reading, and migrating older databases."""

from __future__ import annotations

import os
import time

import anyio
import pytest

from asyncflow import Flow, history as history_api, task
from asyncflow._history import _recorder
from asyncflow._history._heartbeat import (
    HEARTBEAT_INTERVAL,
    MISSED_BEATS,
    host_name,
    process_started_at,
)
from asyncflow._history._schema import LATEST_VERSION, MIGRATIONS
from asyncflow._history._store import store_for
from asyncflow.history import Recorder
from asyncflow.states import Crashed, Failed

pytestmark = pytest.mark.anyio


async def _insert(url: str, process: tuple[str, int, float | None], started_at: float) -> int:
    async with history_api.connect(url) as db:
        return await db.create_flow_run(
            flow_run_id=f"run-{process[0]}-{process[1]}-{started_at}", flow_name="elsewhere",
            state="Running", parameters="{}", started_at=started_at, task_count=0,
            graph=None, process=process,
        )


def test_crashed_is_a_failed_state() -> None:
    assert issubclass(Crashed, Failed) and Crashed("gone").is_failed()


async def test_a_recorded_run_names_its_process(history_url: str) -> None:
    @task
    def one() -> int:
        return 1

    with Flow("beating") as flow:
        one()
    await flow.run(history=history_url)
    run = (await history_api.list_runs(url=history_url))[0]
    assert (run.host, run.pid, run.state) == (host_name(), os.getpid(), "Success")
    assert run.heartbeat_at is not None


async def test_a_run_on_another_host_crashes_after_missed_beats(history_url: str) -> None:
    now = time.time()
    late = await _insert(history_url, ("another-host", 4242, None),
                         now - (MISSED_BEATS + 1) * HEARTBEAT_INTERVAL)
    recent = await _insert(history_url, ("another-host", 4243, None), now)
    async with history_api.connect(history_url) as db:
        assert (await db.get_flow_run(late)).state == "Crashed"
        assert "pid 4242 on another-host" in ((await db.get_flow_run(late)).message or "")
        assert (await db.get_flow_run(recent)).state == "Running"
        assert await db.is_finished(late) and not await db.is_finished(recent)


async def test_a_pid_given_to_another_process_is_not_mistaken_for_the_run(
    sqlite_url: str,
) -> None:
    parent = os.getppid()  # alive for the whole test
    started = process_started_at(parent)
    assert started is not None
    same = await _insert(sqlite_url, (host_name(), parent, started), time.time())
    reused = await _insert(sqlite_url, (host_name(), parent, started - 3600), time.time())
    async with history_api.connect(sqlite_url) as db:
        assert (await db.get_flow_run(same)).state == "Running"
        assert (await db.get_flow_run(reused)).state == "Crashed"


async def test_the_writer_beats_while_a_run_goes(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_recorder, "HEARTBEAT_INTERVAL", 0.0)  # a beat every pass
    recorder = Recorder(sqlite_url, flush_interval=0.01)
    beats: list[float] = []

    @task
    async def wait_for_a_beat() -> None:
        async with history_api.connect(sqlite_url) as db:
            run = (await db.list_runs())[0]
            with anyio.fail_after(10):
                while True:
                    await recorder.flush()
                    beat = (await db.get_flow_run(run.id)).heartbeat_at
                    assert beat is not None
                    if beat > run.started_at:
                        beats.append(beat.timestamp())
                        return
                    await anyio.lowlevel.checkpoint()

    with Flow("long") as flow:
        wait_for_a_beat()
    state = await flow.run(history=recorder)
    assert state.is_successful() and beats


async def test_a_database_of_the_first_schema_migrates_keeping_its_runs(
    history_url: str,
) -> None:
    store = store_for(history_url)
    await store.connect()
    try:
        async with store.migration() as conn:
            await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            await conn.execute("INSERT INTO schema_version (version) VALUES (1)")
            for statement in MIGRATIONS[0].sql(store.dialect):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO flow_runs (flow_run_id, flow_name, state, parameters, "
                "started_at, updated_at, task_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                ("old-run", "old", "Running", "{}", 1.0, 1.0, 0),
            )
    finally:
        await store.close()
    async with history_api.connect(history_url) as db:
        assert await db.schema_version() == LATEST_VERSION
        run = await db.get_flow_run("old-run")
    # Nothing says its process is gone: it reads as it was recorded.
    assert (run.state, run.restart_of, run.host) == ("Running", None, None)
    assert run.cancel_requested_at is None and run.is_cancelling is False
