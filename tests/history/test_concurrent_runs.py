"""Runs at the same time, in one process or several, all end up in the history in full."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from aiohttp import web

from asyncflow import Flow, task
from asyncflow._history import _sqlite
from asyncflow._history._store import sqlite_path
from asyncflow.contrib.aiohttp import setup
from tests.aiohttp.helpers import serve
from tests.history.concurrent_runs import COMPLETE_RUN, GatedFlow, recorded_runs

RUNS = 500
ROOT = Path(__file__).resolve().parents[2]


async def _run_at_once(gated: GatedFlow, url: str) -> list[str]:
    ids = [f"run-{i}" for i in range(gated.expected)]

    async def run(run_id: str) -> None:
        await gated.flow.run(history=url, context={"flow_run_id": run_id})

    async with anyio.create_task_group() as tg:
        for run_id in ids:
            tg.start_soon(run, run_id)
        await gated.open_when_all_in()
    return ids


def _recorder_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks()
            if getattr(t.get_coro(), "__qualname__", "").startswith("Recorder.")]


@pytest.mark.anyio
async def test_concurrent_runs_in_one_process_are_all_recorded(
    history_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    gated = GatedFlow(RUNS)
    with caplog.at_level(logging.ERROR, logger="asyncflow.history"):
        ids = await _run_at_once(gated, history_url)
    assert [r.message for r in caplog.records] == []
    assert _recorder_tasks() == []  # nothing of the shared writer outlives the runs
    recorded = await recorded_runs(history_url)
    assert sorted(recorded) == sorted(ids)
    incomplete = {i: r for i, r in recorded.items() if r != COMPLETE_RUN}
    assert incomplete == {}


@pytest.mark.anyio
async def test_runs_started_through_aiohttp_are_all_recorded(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    gated = GatedFlow(RUNS)
    app = web.Application()
    manager = setup(app, flows=[gated.flow], max_concurrent_runs=RUNS,
                    run_options={"history": sqlite_url})
    with caplog.at_level(logging.ERROR, logger="asyncflow.history"):
        async with serve(app) as client:
            ids = []
            for i in range(RUNS):
                response = await client.post("/flows/gated/runs", json={"label": str(i)})
                assert response.status == 202, await response.text()
                ids.append((await response.json())["run_id"])
            await gated.open_when_all_in()
            with anyio.fail_after(120):
                for run_id in ids:
                    await manager.get(run_id).wait()
    assert [r.message for r in caplog.records] == []
    recorded = await recorded_runs(sqlite_url)
    assert sorted(recorded) == sorted(ids)
    assert {i: r for i, r in recorded.items() if r != COMPLETE_RUN} == {}


def test_two_processes_recording_into_one_file_record_every_run(sqlite_url: str) -> None:
    per_process = 200
    command = [sys.executable, "-m", "tests.history.concurrent_runs", sqlite_url,
               str(per_process)]
    children = [
        subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:  # both start their runs together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=180) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out == "done\n"
        assert "history:" not in err, err
    recorded = anyio.run(recorded_runs, sqlite_url)
    assert len(recorded) == 2 * per_process
    assert {i: r for i, r in recorded.items() if r != COMPLETE_RUN} == {}


@pytest.mark.anyio
async def test_a_write_lock_held_past_the_bound_loses_the_run_with_one_error_naming_it(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    @task
    async def one() -> int:
        return 1

    with Flow("locked-out") as flow:
        one()
    await flow.run(history=sqlite_url)  # the file exists, at the latest schema
    monkeypatch.setattr(_sqlite, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(sqlite_path(sqlite_url), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than that
        with caplog.at_level(logging.ERROR, logger="asyncflow.history"):
            state = await flow.run(history=sqlite_url, context={"flow_run_id": "lost-1"})
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert state.is_successful()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1, messages
    assert "flow run lost-1" in messages[0]
    assert "stayed locked by another connection for over 0.05s" in messages[0]
    assert len(await recorded_runs(sqlite_url)) == 1
