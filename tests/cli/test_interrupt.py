"""Ctrl-C: the run is cancelled cleanly, handlers see Cancelled, the exit code is 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from .helpers import CLI, write

BLOCKING_FLOW = """\
    import asyncio
    from pathlib import Path

    from asyncflow import Flow, Parameter, task

    def record(task, old, new):
        if new.is_cancelled():
            Path("handler.txt").write_text(new.name)

    @task(state_handlers=[record])
    async def wait_forever():
        print("READY", flush=True)
        await asyncio.Event().wait()

    with Flow("blocking") as flow:
        wait_forever()
"""


@pytest.mark.parametrize(
    ("signum", "json_report", "code"),
    [(signal.SIGINT, False, 130), (signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
)
def test_a_signal_cancels_the_run_runs_handlers_and_exits_128_plus_its_number(
    tmp_path: Path, signum: signal.Signals, json_report: bool, code: int
) -> None:
    write(tmp_path / "blocking.py", BLOCKING_FLOW)
    args = [*CLI, "run", "blocking.py", *(["--json"] if json_report else [])]
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ),
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the task prints READY once it is running
            if line.strip() == "READY":
                break
        else:
            pytest.fail(f"the flow never started: {proc.stderr.read() if proc.stderr else ''}")
        proc.send_signal(signum)
        rest, errors = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == code
    assert (tmp_path / "handler.txt").read_text() == "Cancelled"
    assert "Traceback" not in errors
    log = errors if json_report else rest
    assert "wait_forever-1: Cancelled (Task run was cancelled.)" in log
    assert f"Interrupted by {signum.name}: the run was cancelled" in log
    if json_report:
        report = json.loads(rest)
        assert report["state"] == "Cancelled"
        assert report["tasks"][0]["state"] == "Cancelled"
