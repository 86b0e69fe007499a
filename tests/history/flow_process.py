"""A flow run by ``asyncflow run`` in a subprocess, whose last task waits for ever: what the
tests of cancelling a run from another process start and watch."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import Process

#: ``prepare``, then ``wait_forever``: once the history has its Running state it prints
#: "ready" and waits for what never comes; cancelled, it notes so in CANCELLED_FILE (with
#: HOLD_CANCEL set, only after printing "cancelling" and reading a line from stdin).
WAITING_FLOW = textwrap.dedent("""
    import asyncio, os, sys
    from pathlib import Path
    from asyncflow import Flow, task
    from asyncflow._history._sharing import shared_recorder

    @task
    def prepare():
        return 1

    @task
    async def wait_forever(x):
        await shared_recorder(os.environ["HISTORY_URL"]).flush()
        print("ready", flush=True)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if os.environ.get("HOLD_CANCEL"):
                print("cancelling", flush=True)
                await asyncio.to_thread(sys.stdin.readline)
            Path(os.environ["CANCELLED_FILE"]).write_text("cancelled")
            raise
        return x

    with Flow("waiting") as flow:
        wait_forever(prepare())
""")
#: Bound on how long a test waits for the subprocess to be ready, or to exit.
PROCESS_WAIT = 60.0


@dataclass
class FlowProcess:
    process: Process
    cancelled_file: Path

    async def read_line(self) -> bytes:
        """The next line the flow prints (waiting for it, bounded)."""
        return await _read_line(self.process)

    async def let_cancel_finish(self) -> None:
        """With ``hold_cancel``: let the cancelled task end."""
        assert self.process.stdin is not None
        await self.process.stdin.send(b"go\n")

    async def exit_code(self) -> int:
        """Wait (bounded) for the process to exit by itself; its exit code."""
        with anyio.fail_after(PROCESS_WAIT):
            return await self.process.wait()


async def _read_line(process: Process) -> bytes:
    assert process.stdout is not None
    data = b""
    with anyio.fail_after(PROCESS_WAIT):
        while not data.endswith(b"\n"):
            data += await process.stdout.receive()
    return data


@asynccontextmanager
async def waiting_flow_process(
    tmp_path: Path, url: str, *, hold_cancel: bool = False
) -> AsyncIterator[FlowProcess]:
    """``asyncflow run`` of :data:`WAITING_FLOW`, recording to ``url``, once its last task
    waits; killed on the way out if it is still running. With ``hold_cancel`` its task,
    once cancelled, ends only after :meth:`FlowProcess.let_cancel_finish`."""
    flow_file = tmp_path / "waiting_flow.py"
    flow_file.write_text(WAITING_FLOW)
    cancelled_file = tmp_path / "cancelled.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HISTORY_URL": url,
           "CANCELLED_FILE": str(cancelled_file), **({"HOLD_CANCEL": "1"} if hold_cancel else {})}
    process = await anyio.open_process(
        [sys.executable, "-m", "asyncflow.cli", "run", str(flow_file), "--history", url,
         "-q"], env=env, cwd=tmp_path, stderr=None)
    try:
        line = await _read_line(process)
        assert line == b"ready\n", line
        yield FlowProcess(process, cancelled_file)
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.wait()
            await process.aclose()
