"""A run killed with SIGKILL reads as Crashed, and `asyncflow run --restart last` finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio.to_thread
import pytest

from asyncflow import history as history_api

pytestmark = pytest.mark.anyio

# Five persisted steps, each noting that it ran; then `announce`, which on the first run
# makes sure the history has everything so far, says so, and waits to be killed.
_FLOW = textwrap.dedent("""
    import asyncio, os
    from pathlib import Path
    from asyncflow import Flow, task
    from asyncflow._history._sharing import shared_recorder
    from asyncflow.results import LocalResult

    CALLS = Path(os.environ["CALLS_FILE"])

    @task
    def step(i):
        with CALLS.open("a") as f:
            f.write(f"step {i}\\n")
        return i * 10

    @task
    async def announce(values):
        if os.environ.get("WAIT_TO_BE_KILLED"):
            await shared_recorder(os.environ["ASYNCFLOW__HISTORY__URL"]).flush()
            print("ready", flush=True)
            await asyncio.Event().wait()
        with CALLS.open("a") as f:
            f.write("announce\\n")
        return sum(values)

    with Flow("long", result=LocalResult(dir=os.environ["RESULTS_DIR"])) as flow:
        announce([step(i) for i in range(5)])
""")


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "ASYNCFLOW__HISTORY__URL": url,
        "CALLS_FILE": str(tmp_path / "calls.txt"),
        "RESULTS_DIR": str(tmp_path / "results"),
        **extra,
    }


def _run_and_kill(tmp_path: Path, flow_file: Path, url: str) -> tuple[bytes, int]:
    env = _env(tmp_path, url, WAIT_TO_BE_KILLED="1")
    with (tmp_path / "stderr.txt").open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "asyncflow.cli", "run", str(flow_file), "--checkpointing",
             "-q"],
            stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=tmp_path,
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
    return line, proc.returncode


async def test_a_killed_run_reads_as_crashed_and_restart_last_finishes_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    flow_file = tmp_path / "long_flow.py"
    flow_file.write_text(_FLOW)
    line, returncode = await anyio.to_thread.run_sync(_run_and_kill, tmp_path, flow_file, url)
    assert line == b"ready\n", (tmp_path / "stderr.txt").read_text()[-2000:]
    assert returncode == -signal.SIGKILL

    crashed = await history_api.get_run(1, url=url)
    assert crashed.run.state == "Crashed" and crashed.run.pid is not None
    states = {tr.task_name: tr.state for tr in crashed.task_runs}
    assert states["announce"] == "Crashed" and states["step"] == "Success"
    assert (tmp_path / "calls.txt").read_text().count("step") == 5

    done = await anyio.to_thread.run_sync(lambda: subprocess.run(
        [sys.executable, "-m", "asyncflow.cli", "run", str(flow_file), "--restart", "last",
         "--checkpointing", "--json"],
        capture_output=True, text=True, env=_env(tmp_path, url), cwd=tmp_path, timeout=60,
        check=False,
    ))
    assert done.returncode == 0, done.stderr[-2000:]
    # Every step had finished and persisted its result: none ran again.
    assert (tmp_path / "calls.txt").read_text().splitlines()[5:] == ["announce"]
    runs = await history_api.list_runs(url=url)
    assert [(r.id, r.state, r.restart_of) for r in runs] == [
        (2, "Success", 1), (1, "Crashed", None)]
    restarted = await history_api.get_run(2, url=url)
    announce = next(tr for tr in restarted.task_runs if tr.task_name == "announce")
    assert announce.state == "Success"


async def test_the_cli_says_why_a_restart_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    flow_file = tmp_path / "long_flow.py"
    flow_file.write_text(_FLOW)
    done = await anyio.to_thread.run_sync(lambda: subprocess.run(
        [sys.executable, "-m", "asyncflow.cli", "run", str(flow_file), "--restart", "7"],
        capture_output=True, text=True, env=_env(tmp_path, url), cwd=tmp_path, timeout=60,
        check=False,
    ))
    assert done.returncode != 0
    assert "cannot be restarted" in done.stderr and "has no such run" in done.stderr
    assert not (tmp_path / "calls.txt").exists()
