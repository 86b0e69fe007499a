"""What recording the run history costs: the same flow with history on and off.

The baseline is the flow run with ``history=False``; asyncflow's column is the same run
recording every transition to a SQLite file (``history="sqlite:///..."``), timed until
``flow.run`` returns, that is until every transition is in the database. Rounds
alternate between the two so that machine noise hits both sides. Target for the 10,000
task fan-out: ratio <= 1.5.

Run from the repository root: ``python -m benchmarks bench_history``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from asyncflow import Flow, history, task

from ._timing import Row, best_of, row

ROUNDS = 11


@task
async def noop() -> None:
    return None


@task
async def inc(x: int) -> int:
    return x + 1


async def _compare(flow: Flow, url: str, rounds: int = ROUNDS) -> tuple[float, float, float]:
    """Best wall times with history on and off, and the ratio of their best CPU times
    (this process's), which a noisy machine distorts less."""
    cpu: dict[str, float] = {"on": float("inf"), "off": float("inf")}

    async def timed(history: str | bool, side: str) -> None:
        start = time.process_time()
        state = await flow.run(history=history)
        cpu[side] = min(cpu[side], time.process_time() - start)
        assert state.is_successful(), state

    async def on() -> None:
        await timed(url, "on")

    async def off() -> None:
        await timed(False, "off")

    await on()  # create the database and warm up both paths
    await off()
    t_on, t_off = await best_of(rounds, on, off)
    return t_on, t_off, cpu["on"] / cpu["off"]


async def fan_out(directory: Path, n: int = 10_000) -> Row:
    with Flow("fan-out") as flow:
        for _ in range(n):
            noop()
    t_on, t_off, cpu = await _compare(flow, f"sqlite:///{directory / 'fan-out.db'}")
    return row(f"fan-out of {n:,} no-op tasks, history on (SQLite)", t_on, t_off, "<= 1.5x",
               f"{(t_on - t_off) / (2 * n) * 1e6:.2f} us per recorded transition; CPU time "
               f"{cpu:.2f}x")


async def mapped(directory: Path, n: int = 10_000) -> Row:
    with Flow("map") as flow:
        inc.map(list(range(n)))
    t_on, t_off, cpu = await _compare(flow, f"sqlite:///{directory / 'map.db'}")
    return row(f"map over {n:,} items, history on (SQLite)", t_on, t_off, "report",
               f"{(t_on - t_off) / (2 * n) * 1e6:.2f} us per recorded transition; CPU time "
               f"{cpu:.2f}x")


async def small_runs(directory: Path) -> Row:
    with Flow("one-task") as flow:
        noop()
    t_on, t_off, _ = await _compare(flow, f"sqlite:///{directory / 'small.db'}", rounds=30)
    return row("one-task flow, history on (SQLite)", t_on, t_off, "report",
               f"{(t_on - t_off) * 1e3:.1f} ms per run to connect, record and close")


async def concurrent_runs(directory: Path, n: int = 1000, rounds: int = 3) -> Row:
    """``n`` runs of a two-task flow started at once, all naming one SQLite file: they
    share one recorder, and every run must be recorded."""
    with Flow("pair") as flow:
        inc(inc(1))
    url = f"sqlite:///{directory / 'concurrent.db'}"
    expected = 0

    async def runs(history_option: str | bool) -> None:
        states = await asyncio.gather(*(flow.run(history=history_option) for _ in range(n)))
        assert all(state.is_successful() for state in states)

    async def on() -> None:
        nonlocal expected
        await runs(url)
        expected += n

    async def off() -> None:
        await runs(False)

    t_on, t_off = await best_of(rounds, on, off)
    async with history.connect(url) as db:
        recorded = await db.count_runs()
    assert recorded == expected, f"{recorded} of {expected} runs recorded"
    return row(f"{n:,} concurrent two-task runs, history on (SQLite)", t_on, t_off, "report",
               f"all {expected:,} runs recorded; {(t_on - t_off) / n * 1e3:.2f} ms per run")


async def run_benchmarks() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        return [await fan_out(directory), await mapped(directory), await small_runs(directory),
                await concurrent_runs(directory)]
