"""What recording the run history costs: the same flow with history on and off.

The baseline is the flow run with ``history=False``; asyncflow's column is the same run
recording every transition to a SQLite file (``history="sqlite:///..."``), timed until
``flow.run`` returns, that is until every transition is in the database. Rounds
alternate between the two so that machine noise hits both sides. Target for the 10,000
task fan-out: ratio <= 1.5.

Run from the repository root: ``python -m benchmarks bench_history``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from asyncflow import Flow, task

from ._timing import Row, best_of, row

ROUNDS = 7


@task
async def noop() -> None:
    return None


@task
async def inc(x: int) -> int:
    return x + 1


async def _compare(flow: Flow, url: str, rounds: int = ROUNDS) -> tuple[float, float]:
    async def on() -> None:
        state = await flow.run(history=url)
        assert state.is_successful(), state

    async def off() -> None:
        state = await flow.run(history=False)
        assert state.is_successful(), state

    await on()  # create the database and warm up both paths
    await off()
    return await best_of(rounds, on, off)


async def fan_out(directory: Path, n: int = 10_000) -> Row:
    with Flow("fan-out") as flow:
        for _ in range(n):
            noop()
    t_on, t_off = await _compare(flow, f"sqlite:///{directory / 'fan-out.db'}")
    return row(f"fan-out of {n:,} no-op tasks, history on (SQLite)", t_on, t_off, "<= 1.5x",
               f"{(t_on - t_off) / (2 * n) * 1e6:.2f} us per recorded transition")


async def mapped(directory: Path, n: int = 10_000) -> Row:
    with Flow("map") as flow:
        inc.map(list(range(n)))
    t_on, t_off = await _compare(flow, f"sqlite:///{directory / 'map.db'}")
    return row(f"map over {n:,} items, history on (SQLite)", t_on, t_off, "report",
               f"{(t_on - t_off) / (2 * n) * 1e6:.2f} us per recorded transition")


async def small_runs(directory: Path) -> Row:
    with Flow("one-task") as flow:
        noop()
    t_on, t_off = await _compare(flow, f"sqlite:///{directory / 'small.db'}", rounds=30)
    return row("one-task flow, history on (SQLite)", t_on, t_off, "report",
               f"{(t_on - t_off) * 1e3:.1f} ms per run to connect, record and close")


async def run_benchmarks() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        return [await fan_out(directory), await mapped(directory), await small_runs(directory)]
