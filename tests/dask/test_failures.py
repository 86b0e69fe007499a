"""Worker processes dying mid-run, and runs cancelled while bodies are on the cluster."""

from __future__ import annotations

import os
import signal
import uuid
from typing import Any

import anyio
import pytest
from distributed import LocalCluster

from asyncflow import Flow, task, unmapped
from asyncflow.executors import DaskExecutor
from asyncflow.states import State
from tests.dask.helpers import child_state, dd

pytestmark = pytest.mark.anyio


@task
def hold(i: int, started: str, release: str) -> tuple[int, int]:
    """Say "started" on a Dask queue, then wait until the driver sets the release event."""
    dd.Queue(started).put(os.getpid())
    dd.Event(release).wait()
    return i, os.getpid()


async def test_flow_completes_when_a_worker_process_is_killed(
    process_cluster: LocalCluster,
) -> None:
    address = process_cluster.scheduler_address
    started, release = f"started-{uuid.uuid4().hex}", f"release-{uuid.uuid4().hex}"
    with Flow("killed worker") as flow:
        held = hold(1, started, release)
    states: list[State] = []

    async def run() -> None:
        states.append(await flow.run(executor=DaskExecutor(address)))

    async with dd.Client(address, asynchronous=True) as client:
        queue = await dd.Queue(started, client=client)
        event = dd.Event(release, client=client)
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            victim = await queue.get()
            os.kill(victim, signal.SIGKILL)
            await event.set()
        # The nanny starts a new worker process; later tests want two workers again.
        await client.wait_for_workers(2)
    state = states[0]
    assert state.is_successful()
    value, pid = child_state(state, held).result
    assert value == 1
    assert pid != victim


async def test_cancelling_the_run_cancels_its_queued_bodies() -> None:
    started, release = f"started-{uuid.uuid4().hex}", f"release-{uuid.uuid4().hex}"
    with Flow("cancelled") as flow:
        hold.map(list(range(6)), unmapped(started), unmapped(release))
    # One worker thread: one body runs, the other five wait on the cluster.
    async with dd.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=":0", asynchronous=True) as cluster, \
            dd.Client(cluster, asynchronous=True) as client:
        queue = await dd.Queue(started, client=client)
        event = dd.Event(release, client=client)
        executor = DaskExecutor(cluster.scheduler_address)

        async def run() -> None:
            await flow.run(executor=executor)

        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(run)
                await queue.get()
                scope.cancel()
        assert scope.cancelled_caught
        assert executor._sessions == {}
        await event.set()  # the running body ends; its result is dropped
        assert await client.submit(str, "probe") == "probe"
        left = await client.run_on_scheduler(_keys_named, "hold")
        assert left == []
        assert await queue.qsize() == 0


def _keys_named(prefix: str, dask_scheduler: Any) -> list[str]:
    return [str(k) for k in dask_scheduler.tasks if str(k).startswith(prefix)]
