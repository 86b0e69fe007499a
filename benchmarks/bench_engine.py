"""Engine overhead against plain asyncio doing the same work in the same process.

Baselines: a fan-out is ``asyncio.gather`` over one coroutine per task; a chain is one
asyncio task per step, each awaiting the previous one; a map is ``asyncio.gather`` over
the items; a bounded workload uses an ``asyncio.Semaphore``.
"""

from __future__ import annotations

import asyncio

from asyncflow import Flow, task

from ._timing import Row, best_of, row


@task
async def noop() -> None:
    return None


@task
async def inc(x: int) -> int:
    return x + 1


@task
async def nap() -> None:
    await asyncio.sleep(0.05)


@task
async def short_io(x: int) -> int:
    await asyncio.sleep(0.01)
    return x


async def _plain_noop() -> None:
    return None


async def _plain_inc(x: int) -> int:
    return x + 1


async def fan_out(n: int = 10_000) -> Row:
    with Flow("fan-out") as flow:
        for _ in range(n):
            noop()

    async def ours() -> None:
        state = await flow.run()
        assert state.is_successful()

    async def base() -> None:
        await asyncio.gather(*(_plain_noop() for _ in range(n)))

    t_ours, t_base = await best_of(5, ours, base)
    return row(f"fan-out of {n:,} no-op async tasks", t_ours, t_base, "<= 4x (goal 2x)",
               f"{t_ours / n * 1e6:.1f} us/task")


async def chain(n: int = 1_000) -> Row:
    with Flow("chain") as flow:
        x = inc(0)
        for _ in range(n - 1):
            x = inc(x)

    async def ours() -> None:
        state = await flow.run()
        assert state.result[x].result == n

    async def step(prev: asyncio.Task[int] | None) -> int:
        return await _plain_inc(await prev if prev is not None else 0)

    async def base() -> None:
        prev: asyncio.Task[int] | None = None
        for _ in range(n):
            prev = asyncio.ensure_future(step(prev))
        assert prev is not None and await prev == n

    t_ours, t_base = await best_of(5, ours, base)
    return row(f"chain of {n:,} dependent tasks", t_ours, t_base, "<= 4x (goal 2x)",
               f"{t_ours / n * 1e6:.1f} us/task")


async def sleepers(n: int = 1_000) -> Row:
    with Flow("sleepers") as flow:
        for _ in range(n):
            nap()

    async def ours() -> None:
        await flow.run()

    async def base() -> None:
        await asyncio.gather(*(asyncio.sleep(0.05) for _ in range(n)))

    t_ours, t_base = await best_of(5, ours, base)
    return row(f"{n:,} tasks each awaiting a 50 ms sleep", t_ours, t_base, "<= 1.2x")


async def mapped(n: int = 10_000) -> Row:
    items = list(range(n))
    with Flow("map") as flow:
        m = inc.map(items)

    async def ours() -> None:
        state = await flow.run()
        assert len(state.result[m].result) == n

    async def base() -> None:
        await asyncio.gather(*(_plain_inc(i) for i in items))

    t_ours, t_base = await best_of(5, ours, base)
    return row(f"map over {n:,} items (no-op async)", t_ours, t_base, "<= 4x (goal 2x)",
               f"{t_ours / n * 1e6:.1f} us/child")


async def bounded(n: int = 10_000, limit: int = 100) -> Row:
    with Flow("bounded") as flow:
        m = short_io.map(list(range(n)))

    async def ours() -> None:
        state = await flow.run(max_concurrency=limit)
        assert len(state.result[m].result) == n

    async def base() -> None:
        semaphore = asyncio.Semaphore(limit)

        async def one() -> None:
            async with semaphore:
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(n)))

    t_ours, t_base = await best_of(2, ours, base)
    ideal = n / limit * 0.01
    return row(f"{n:,} tasks of 10 ms under max_concurrency={limit}", t_ours, t_base,
               "<= 1.2x the ideal", f"ideal {ideal:.1f} s: asyncflow {t_ours / ideal:.2f}x, "
               f"plain asyncio.Semaphore {t_base / ideal:.2f}x")


def memory_rows(n: int = 100_000) -> list[Row]:
    """Peak memory per task for a flow of n tasks and a map over n items (fresh processes)."""
    from .memory import in_subprocess

    rows: list[Row] = []
    for kind, label in (("flow", f"{n:,}-task flow"), ("map", f"map over {n:,} items")):
        m = in_subprocess(kind, n)
        rows.append(Row(workload=f"peak memory: {label}", asyncflow_s=m["run_s"],
                        target="< 2 KiB/task",
                        notes=f"{m['bytes_per_task']:,.0f} B/task peak RSS; "
                              f"build {m['build_s']:.2f} s"))
    return rows


async def run_benchmarks() -> list[Row]:
    return [await fan_out(), await chain(), await sleepers(), await mapped(), await bounded()]
