"""What durable runs and restarts cost: checkpointed runs against DBOS-style durability,
planning the restart of a big map, and the heartbeat.

- Durable chain and fan-out: 1,000 tasks, history on (SQLite) and every result written
  by :class:`~asyncflow.results.LocalResult` (which fsyncs each file), against the same
  work done the way a durable-execution library such as DBOS does it in the same
  process: each step writes the same bytes (fsynced) and commits one row to SQLite
  (WAL, ``synchronous=FULL``) before the next; and, when it is installed (the ``bench``
  extra), against DBOS itself: a workflow of 1,000 async steps on a SQLite system
  database (the fan-out: 1,000 steps gathered at once). Target: at least 4x ahead of
  DBOS's 4.5 ms/step, i.e. at most 1.125 ms per task. A chained task cannot beat the
  disk's latency for one atomic durable write (two fsyncs), which swings on a shared
  disk, so one more row measures that floor in a plain loop, interleaved with the chain.
- Restarting a 10,000-child map with 10 failed children: planning (reading the history
  and building the states) under 0.5 s; exactly 10 children run again. Reading the kept
  values the reduce downstream needs is reported on its own line.
- The heartbeat on the 10,000-task fan-out with history on: the recorder as shipped
  against a recorder beating on every writer pass (the worst case); within noise.

Run from the repository root: ``python -m benchmarks bench_restart``.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from asyncflow import Flow, task
from asyncflow._core._flow_runner import plan_for
from asyncflow._history import _recorder
from asyncflow._history._restart import plan_restart_from
from asyncflow.results import LocalResult

from . import _dbos
from ._dbos import Workflow
from ._timing import Row, best_of, row

N_DURABLE = 1000
#: Interleaved rounds of the durable rows (fsync times swing on a shared disk); DBOS's
#: own rows take several seconds a round, so they have fewer.
ROUNDS = 5
DBOS_ROUNDS = 3


@task
async def inc(x: int) -> int:
    return x + 1


@task
async def one() -> int:
    return 1


def _durable_steps(directory: Path, n: int) -> float:
    """DBOS-style: per step, write the step's bytes (fsync) and commit one row."""
    directory.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(directory / "steps.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, workflow TEXT, "
               "step INTEGER, output BLOB)")
    start = time.perf_counter()
    for i in range(n):
        data = pickle.dumps(i + 1)  # what the task of the chain returns
        fd = os.open(directory / f"step-{i}.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        db.execute("BEGIN")
        db.execute("INSERT INTO steps (workflow, step, output) VALUES (?, ?, ?)",
                   ("bench", i, data))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def _atomic_writes(directory: Path, n: int) -> None:
    """The disk's floor for a chained durable task: per step, one atomic durable write of
    the step's bytes (temporary file, fsync, rename, directory fsync), nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        for i in range(n):
            final = directory / f"step-{i}.bin"
            temporary = directory / f".step-{i}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, pickle.dumps(i + 1))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, final)
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _run_durably(directory: Path, name: str, flow: Flow) -> Callable[[], Awaitable[None]]:
    """One run of ``flow`` with history (SQLite) and checkpointing on."""
    url = f"sqlite:///{directory / (name + '.db')}"

    async def ours() -> None:
        state = await flow.run(history=url, checkpointing=True)
        assert state.is_successful(), state

    return ours


def _durable_row(name: str, n: int, t_ours: float, t_base: float, base: str) -> Row:
    per_ours, per_base = t_ours / n * 1e3, t_base / n * 1e3
    return row(f"durable {name} of {n:,} tasks: history + LocalResult vs {base}",
               t_ours, t_base, "<= 1.125 ms/task", f"{per_ours:.2f} ms/task vs {per_base:.2f} "
               f"ms/step: {per_base / per_ours:.1f}x ahead")


async def _against_floor(directory: Path, flow: Flow) -> Row:
    n = len(flow.tasks)
    rounds = iter(range(1000))

    async def floor() -> None:
        _atomic_writes(directory / f"floor-{next(rounds)}", n)

    t_ours, t_base = await best_of(ROUNDS, _run_durably(directory, "chain", flow), floor)
    per_ours, per_base = t_ours / n * 1e3, t_base / n * 1e3
    return row(f"durable chain of {n:,} tasks vs the disk's floor (one atomic fsynced "
               "write per step, plain loop)", t_ours, t_base, "report",
               f"{per_ours:.2f} ms/task vs {per_base:.2f} ms/write: the engine, the history "
               f"and the worker thread add {per_ours - per_base:.2f} ms/task")


async def _against_proxy(directory: Path, name: str, flow: Flow) -> Row:
    n = len(flow.tasks)
    rounds = iter(range(1000))

    async def dbos_style() -> None:
        _durable_steps(directory / f"dbos-{name}-{next(rounds)}", n)

    t_ours, t_base = await best_of(ROUNDS, _run_durably(directory, name, flow), dbos_style)
    return _durable_row(name, n, t_ours, t_base, "DBOS-style steps")


async def _against_dbos(directory: Path, name: str, flow: Flow, workflow: Workflow) -> Row:
    n = len(flow.tasks)

    async def dbos() -> None:
        await workflow(n)

    t_ours, t_base = await best_of(DBOS_ROUNDS, _run_durably(directory, name, flow), dbos)
    return _durable_row(name, n, t_ours, t_base, "DBOS (SQLite)")


def _chain_flow(results: Path) -> Flow:
    with Flow("durable chain", result=LocalResult(dir=str(results))) as flow:
        x: Any = one()
        for _ in range(N_DURABLE - 1):
            x = inc(x)
    return flow


def _fan_out_flow(results: Path) -> Flow:
    with Flow("durable fan-out", result=LocalResult(dir=str(results))) as flow:
        for _ in range(N_DURABLE):
            one()
    return flow


async def durable_runs(directory: Path) -> list[Row]:
    """The chain and the fan-out against DBOS-style steps, and against DBOS if installed."""
    chain, fan_out = _chain_flow(directory / "chain"), _fan_out_flow(directory / "fan-out")
    rows = [await _against_floor(directory, chain),
            await _against_proxy(directory, "chain", chain),
            await _against_proxy(directory, "fan-out", fan_out)]
    with _dbos.start(directory) as started:
        if isinstance(started, str):
            print(f"bench_restart: skipping the rows against DBOS: {started}", file=sys.stderr)
            return rows
        dbos_chain, dbos_fan_out = started
        rows.insert(2, await _against_dbos(directory, "chain", chain, dbos_chain))
        rows.append(await _against_dbos(directory, "fan-out", fan_out, dbos_fan_out))
    return rows


async def restart_big_map(directory: Path, n: int = 10_000, failing: int = 10) -> list[Row]:
    broken = set(range(0, n, n // failing))
    ran: list[int] = []

    @task
    async def numbers() -> list[int]:
        return list(range(n))

    @task
    async def work(x: int) -> int:
        ran.append(x)
        if x in broken:
            raise ValueError(x)
        return x

    @task
    async def total(values: list[int]) -> int:
        return sum(values)

    with Flow("big map", result=LocalResult(dir=str(directory / "map-results"))) as flow:
        total(work.map(numbers()))
    url = f"sqlite:///{directory / 'map.db'}"
    first = await flow.run(history=url, checkpointing=True)
    assert first.is_failed()
    broken.clear()
    plan = await plan_restart_from(url, flow, plan_for(flow), "last", None)
    ran.clear()
    t0 = time.perf_counter()
    state = await flow.run(history=url, checkpointing=True, restart_from="last")
    elapsed = time.perf_counter() - t0
    assert state.is_successful(), state
    assert len(ran) == failing, ran
    return [
        row(f"restart of a {n:,}-child map, {failing} failed: planning", plan.planning_seconds,
            0.0, "< 0.5 s", f"{len(ran)} children ran again; {plan.kept:,} task runs kept"),
        row(f"restart of a {n:,}-child map: reading the {plan.values_read:,} kept values "
            "the reduce needs", plan.reading_seconds, 0.0, "report",
            f"whole restart run {elapsed:.2f} s"),
    ]


async def heartbeat(directory: Path, n: int = 10_000) -> Row:
    with Flow("fan-out") as flow:
        for _ in range(n):
            one()
    url = f"sqlite:///{directory / 'beat.db'}"
    shipped = _recorder.HEARTBEAT_INTERVAL

    async def default() -> None:
        _recorder.HEARTBEAT_INTERVAL = shipped
        assert (await flow.run(history=url)).is_successful()

    async def every_pass() -> None:
        _recorder.HEARTBEAT_INTERVAL = 0.0
        try:
            assert (await flow.run(history=url)).is_successful()
        finally:
            _recorder.HEARTBEAT_INTERVAL = shipped

    await default()
    t_beating, t_default = await best_of(7, every_pass, default)
    return row(f"fan-out of {n:,}, history on: a beat every writer pass vs every "
               f"{shipped:g} s", t_beating, t_default, "within noise", "")


async def run_benchmarks() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        return [*await durable_runs(directory), *await restart_big_map(directory),
                await heartbeat(directory)]
