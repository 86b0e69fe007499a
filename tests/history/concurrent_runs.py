"""Many runs at once: a gated flow, and a check that each run is recorded in full.

Also a program (``python -m tests.history.concurrent_runs URL N``) that records ``N``
gated runs at once into ``URL``: it prints ``ready`` and starts them when a line comes in
on its standard input, so that a test starts several processes writing at the same time.
"""

from __future__ import annotations

import asyncio
import sys

import anyio

from asyncflow import Flow, Parameter, history as history_api, task


class GatedFlow:
    """A flow ``label -> wait(label)`` whose task waits until :meth:`open`; the test
    starts every run, waits until each is inside ``wait``, then lets them all finish,
    so that every run is open at the same time."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.entered = 0
        self.all_in = asyncio.Event()
        self.gate = asyncio.Event()

        @task(name="wait")
        async def wait(label: str) -> str:
            self.entered += 1
            if self.entered == self.expected:
                self.all_in.set()
            await self.gate.wait()
            return label

        with Flow("gated") as flow:
            wait(Parameter("label", default="x"))
        self.flow = flow

    async def open_when_all_in(self) -> None:
        with anyio.fail_after(120):
            await self.all_in.wait()
        self.gate.set()


async def recorded_runs(url: str) -> dict[str, list[tuple[str, str, str]]]:
    """Each recorded run's state, and its task runs' transitions ``(task, old, new)``,
    by the engine's flow run id."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    async with history_api.connect(url) as db:
        for run in await db.list_runs(limit=100_000):
            detail = await db.get_run_detail(run.id, transitions=True)
            transitions = sorted((tr.full_name, str(t.old_state), t.new_state)
                                 for tr in detail.task_runs for t in tr.transitions)
            found[run.flow_run_id] = [("flow", run.state, ""), *transitions]
    return found


#: What a run of :class:`GatedFlow` leaves in the history, recorded in full.
COMPLETE_RUN = [
    ("flow", "Success", ""),
    ("label", "Pending", "Running"), ("label", "Running", "Success"),
    ("wait", "Pending", "Running"), ("wait", "Running", "Success"),
]


async def _record(url: str, n: int) -> None:
    gated = GatedFlow(n)
    print("ready", flush=True)
    await anyio.to_thread.run_sync(sys.stdin.readline)
    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(lambda: gated.flow.run(history=url))
        await gated.open_when_all_in()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(_record(sys.argv[1], int(sys.argv[2])))
