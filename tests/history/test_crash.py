"""A process killed in the middle of a run leaves a consistent history behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio.to_thread
import pytest

from asyncflow import history as history_api

pytestmark = pytest.mark.anyio

# Ten quick tasks, then one that waits until the churning has gone on for a while, makes
# sure everything so far is written and says so, while twenty mapped children retrying
# without end keep transitions (and writes) coming until the kill.
_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from asyncflow import Flow, task
    from asyncflow.history import Recorder

    recorder = Recorder(sys.argv[1], flush_interval=0.01, batch_size=20)

    @task
    async def quick(i):
        return i

    attempts = []
    churning = asyncio.Event()

    @task
    async def announce(values):
        await churning.wait()
        await recorder.flush()
        print("ready", flush=True)
        await asyncio.Event().wait()

    @task(max_retries=10**6, retry_delay=0.005)
    async def churn(i):
        attempts.append(i)
        if len(attempts) >= 60:
            churning.set()
        raise RuntimeError("again")

    with Flow("killed") as flow:
        announce([quick(i) for i in range(10)])
        churn.map(list(range(20)))

    asyncio.run(flow.run(history=recorder))
""")


def _run_and_kill(tmp_path: Path, db_path: Path) -> int:
    """Run the script until it says it is ready, SIGKILL it; its return code."""
    script = tmp_path / "killed.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with (tmp_path / "stderr.txt").open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(script), f"sqlite:///{db_path}"],
            stdout=subprocess.PIPE, stderr=stderr, env=env,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
    assert line == b"ready\n", (tmp_path / "stderr.txt").read_text()[-2000:]
    return proc.returncode


async def test_a_killed_process_leaves_a_consistent_database(tmp_path: Path) -> None:
    db_path = tmp_path / "history.db"
    returncode = await anyio.to_thread.run_sync(_run_and_kill, tmp_path, db_path)
    assert returncode == -signal.SIGKILL

    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()

    url = f"sqlite:///{db_path}"
    run = await history_api.get_run(1, url=url, transitions=True)
    # The process is gone: the run, and its unfinished task runs, read as Crashed.
    assert run.run.state == "Crashed" and run.run.ended_at is None
    assert "is gone" in (run.run.message or "")
    states = {tr.full_name: tr.state for tr in run.task_runs}
    quick_runs = [tr for tr in run.task_runs if tr.task_name == "quick"]
    assert len(quick_runs) == 10
    assert all(tr.state == "Success" and len(tr.transitions) == 2 for tr in quick_runs)
    assert states["announce"] == "Crashed"
    assert any(tr.task_name == "churn" and tr.retries > 0 for tr in run.task_runs)
