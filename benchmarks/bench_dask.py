"""asyncflow on Dask against plain Dask on the same cluster.

Each cluster is a real one: a scheduler process and a worker process (``dask worker
--nworkers N --nthreads 1``) on 127.0.0.1, started before any timing and stopped after.
The driver (this process) only runs the client, as it would against a remote cluster.

- Tiny tasks: a flow mapping a trivial sync task over 2,000 items, against
  ``client.map`` + ``client.gather`` of the same function with an already open client.
  The asyncflow side includes connecting its client for the run. The notes add the CPU
  time both sides cost (this process, the scheduler and the workers together), which a
  loaded machine distorts less than wall time.
- The same flow with batching switched off (one submission per child), to show what
  batching the children of a map is worth.
- CPU-bound work: 64 tasks of ~200 ms of pure-Python work on 2 worker processes against
  the same flow on 1 worker process, in paired rounds (see :func:`cpu_bound`), with
  plain ``client.map`` measured the same way for comparison.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import distributed

from asyncflow import Flow, task
from asyncflow.executors import DaskExecutor

from ._timing import Row, best_of, row

dd: Any = distributed  # mostly unannotated
psutil: Any = importlib.import_module("psutil")  # a dependency of distributed; no stubs
ROOT = Path(__file__).resolve().parents[1]


def plain_inc(x: int) -> int:
    return x + 1


@task
def tiny(x: int) -> int:
    return x + 1


def spin(n: int) -> int:
    """Pure-Python CPU work: ``n`` loop iterations."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


@task
def burn(n: int) -> int:
    return spin(n)


def iterations_for(seconds: float) -> int:
    """How many ``spin`` iterations take ``seconds`` in this process, now."""
    n = 200_000
    while True:
        t0 = time.perf_counter()
        spin(n)
        elapsed = time.perf_counter() - t0
        if elapsed > 0.05:
            return int(n * seconds / elapsed)
        n *= 2


class Cluster:
    """A client to a benchmark cluster, and the processes whose CPU time we count."""

    def __init__(self, client: Any, pids: list[int]) -> None:
        self.client = client
        self.address: str = client.scheduler.address
        me = psutil.Process()
        self.processes = [me, *(psutil.Process(pid) for pid in pids)]
        for pid in pids:
            self.processes.extend(psutil.Process(pid).children(recursive=True))

    def cpu_seconds(self) -> float:
        """CPU time used so far by this process, the scheduler and the workers."""
        total = 0.0
        for process in self.processes:
            times = process.cpu_times()
            total += times.user + times.system
        return total


@asynccontextmanager
async def cluster(n_workers: int) -> AsyncIterator[Cluster]:
    """A scheduler and ``n_workers`` single-threaded worker processes."""
    with tempfile.TemporaryDirectory() as tmp:
        scheduler_file = str(Path(tmp) / "scheduler.json")
        options: dict[str, Any] = {"cwd": ROOT, "env": {**os.environ, "PYTHONPATH": str(ROOT)},
                                   "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        scheduler = await anyio.open_process(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--dashboard-address", ":0", "--scheduler-file", scheduler_file],
            **options,
        )
        workers = await anyio.open_process(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
             scheduler_file, "--nworkers", str(n_workers), "--nthreads", "1",
             "--host", "127.0.0.1", "--no-dashboard"],
            **options,
        )
        try:
            client = await dd.Client(scheduler_file=scheduler_file, asynchronous=True,
                                     set_as_default=False)
            try:
                await client.wait_for_workers(n_workers)
                yield Cluster(client, [scheduler.pid, workers.pid])
            finally:
                await client.close()
        finally:
            for process in (workers, scheduler):
                process.terminate()
            for process in (workers, scheduler):
                with anyio.move_on_after(30) as scope:
                    await process.wait()
                if scope.cancelled_caught:
                    process.kill()
                    await process.wait()


def cpu_counted(cluster: Cluster, fn: Callable[[], Awaitable[None]],
                spent: list[float]) -> Callable[[], Awaitable[None]]:
    """``fn``, recording the CPU seconds (driver, scheduler, workers) of each call."""

    async def counted() -> None:
        before = cluster.cpu_seconds()
        await fn()
        spent.append(cluster.cpu_seconds() - before)

    return counted


async def tiny_tasks(two: Cluster, n: int = 2_000, *, batch: bool = True) -> Row:
    client = two.client
    with Flow("tiny") as flow:
        mapped = tiny.map(list(range(n)))

    async def ours() -> None:
        executor = DaskExecutor(two.address)
        executor._batch_submits = batch
        state = await flow.run(executor=executor)
        assert state.result[mapped].result[-1] == n

    async def base() -> None:
        futures = client.map(plain_inc, range(n), pure=False)
        values = await client.gather(futures)
        assert values[-1] == n

    cpu_ours: list[float] = []
    cpu_base: list[float] = []
    t_ours, t_base = await best_of(3, cpu_counted(two, ours, cpu_ours),
                                   cpu_counted(two, base, cpu_base))
    how = "children batched" if batch else "one submission per child"
    return row(f"{n:,} tiny sync tasks on 2 workers ({how})", t_ours, t_base,
               "<= 1.5x" if batch else "(for comparison)",
               f"{t_ours / n * 1e3:.2f} ms/task; CPU s (all processes) {min(cpu_ours):.2f} "
               f"vs {min(cpu_base):.2f} = {min(cpu_ours) / min(cpu_base):.2f}x")


async def cpu_bound(two: Cluster, one: Cluster, n: int = 64, seconds: float = 0.2,
                    rounds: int = 3) -> Row:
    """Paired rounds: each round times the map on 1 worker, then on 2, for asyncflow and
    for plain ``client.map``, and the speed-up is the median of the rounds' ratios.

    A ratio of two runs made back to back holds up when the machine's speed drifts
    between rounds (on a shared 2-core machine it does, by up to 2x), where the best
    times of each side, taken from different rounds, would not.
    """
    work = iterations_for(seconds)
    with Flow("cpu") as flow:
        mapped = burn.map([work] * n)

    async def ours(cluster: Cluster) -> None:
        state = await flow.run(executor=DaskExecutor(cluster.address))
        assert len(state.result[mapped].result) == n

    async def plain(cluster: Cluster) -> None:
        await cluster.client.gather(cluster.client.map(spin, [work] * n, pure=False))

    async def timed(fn: Callable[[Cluster], Awaitable[None]], cluster_: Cluster) -> float:
        gc.collect()
        t0 = time.perf_counter()
        await fn(cluster_)
        return time.perf_counter() - t0

    driver = psutil.Process()
    pairs: dict[str, list[tuple[float, float]]] = {"ours": [], "plain": []}
    driver_cpu: list[float] = []
    for _ in range(rounds):
        for name, fn in (("ours", ours), ("plain", plain)):
            t_one = await timed(fn, one)
            cpu0 = sum(driver.cpu_times()[:2])
            t_two = await timed(fn, two)
            if name == "ours":
                driver_cpu.append(sum(driver.cpu_times()[:2]) - cpu0)
            pairs[name].append((t_one, t_two))

    def median_pair(name: str) -> tuple[float, float]:
        by_ratio = sorted(pairs[name], key=lambda p: p[0] / p[1])
        return by_ratio[len(by_ratio) // 2]

    t_one, t_two = median_pair("ours")
    p_one, p_two = median_pair("plain")
    spread = ", ".join(f"{a / b:.2f}x" for a, b in pairs["ours"])
    return row(f"{n} tasks of {seconds * 1e3:.0f} ms pure-Python work: 2 workers vs 1",
               t_two, t_one, "<= 0.59 (>= 1.7x faster)",
               f"speed-up {t_one / t_two:.2f}x, median of {rounds} paired rounds ({spread}); "
               f"plain client.map on the same clusters: {p_one / p_two:.2f}x; "
               f"{work:,} loop iterations per task; driver CPU per 2-worker run "
               f"{min(driver_cpu):.2f} s")


async def run_benchmarks() -> list[Row]:
    rows: list[Row] = []
    async with cluster(2) as two:
        await tiny_tasks(two, 200)  # warm up: imports and connections on the workers
        rows.append(await tiny_tasks(two))
        rows.append(await tiny_tasks(two, batch=False))
    # Fresh clusters: what the tiny runs leave on the workers does not weigh on this one.
    async with cluster(2) as two, cluster(1) as one:
        await tiny_tasks(two, 200)
        rows.append(await cpu_bound(two, one))
    return rows


if __name__ == "__main__":
    from .__main__ import print_table

    print_table(asyncio.run(run_benchmarks()))  # type: ignore[arg-type]
