"""What recording task run logs costs: a fan-out whose tasks each log a line, history on.

The baseline is the same 10,000-task fan-out recorded to a SQLite history, its tasks
logging nothing; asyncflow's column is the fan-out whose every task logs one INFO line
through ``context.logger`` (captured and written to the history's ``task_logs`` table,
while the logger itself shows only warnings, Python's default). Timed until
``flow.run`` returns, that is until every transition and line is in the database;
rounds alternate between the two sides. Target: ratio <= 2.

A second row is the same fan-out logging through a plain module logger
(``logging.getLogger(__name__)``) named in ``logging.extra_loggers``: a line then makes
a whole ``LogRecord`` before it is captured. A third row times a task that prints
100,000 lines with ``log_stdout=True``.

Run from the repository root: ``python -m benchmarks bench_logs``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from asyncflow import Flow, context, history, task
from asyncflow.config import set_temporary_config

from ._timing import Row, best_of, row

ROUNDS = 7

module_logger = logging.getLogger(__name__)


@task
async def quiet(i: int) -> int:
    return i


@task
async def chatty(i: int) -> int:
    context.logger.info("processed item %d", i)
    return i


@task
async def chatty_module(i: int) -> int:
    module_logger.info("processed item %d", i)
    return i


@task(log_stdout=True)
def printer(n: int) -> None:
    for i in range(n):
        print("line", i)


async def fan_out(directory: Path, chatty_task: Any = chatty, through: str = "",
                  target: str = "<= 2x", n: int = 10_000) -> Row:
    with Flow("quiet") as plain:
        for i in range(n):
            quiet(i)
    with Flow("chatty") as logging_flow:
        for i in range(n):
            chatty_task(i)
    url = f"sqlite:///{directory / f'logs{chatty_task.name}.db'}"

    cpu = {"on": float("inf"), "off": float("inf")}

    async def timed(flow: Flow, side: str) -> None:
        start = time.process_time()
        assert (await flow.run(history=url)).is_successful()
        cpu[side] = min(cpu[side], time.process_time() - start)

    async def on() -> None:
        await timed(logging_flow, "on")

    async def off() -> None:
        await timed(plain, "off")

    await on()
    await off()
    t_on, t_off = await best_of(ROUNDS, on, off)
    run = (await history.list_runs(url=url, flow="chatty", limit=1))[0]
    async with history.connect(url) as db:
        rows = await db.fetch("SELECT COUNT(*) FROM task_logs WHERE flow_run = ?", (run.id,))
    assert int(rows[0][0]) == n, rows
    return row(f"fan-out of {n:,} tasks logging one INFO line each{through}, history on "
               "(SQLite)",
               t_on, t_off, target,
               f"{(t_on - t_off) / n * 1e6:.1f} us per line captured and recorded; CPU time "
               f"{cpu['on'] / cpu['off']:.2f}x")


async def long_log(directory: Path, n: int = 100_000) -> Row:
    with Flow("printer") as flow:
        printer(n)
    url = f"sqlite:///{directory / 'long.db'}"
    start = time.perf_counter()
    assert (await flow.run(history=url)).is_successful()
    elapsed = time.perf_counter() - start
    run = (await history.list_runs(url=url, limit=1))[0]
    start = time.perf_counter()
    page = await history.get_logs(run.id, 0, url=url, after=n // 2, limit=1000)
    read = time.perf_counter() - start
    assert len(page) == 1000
    return Row(workload=f"one task printing {n:,} lines (log_stdout), history on (SQLite)",
               asyncflow_s=elapsed, target="report",
               notes=f"{elapsed / n * 1e6:.1f} us per line; a page of 1,000 from the middle "
                     f"read in {read * 1e3:.1f} ms")


async def run_benchmarks() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        rows = [await fan_out(directory)]
        with set_temporary_config({"logging.extra_loggers": [__name__]}):
            rows.append(await fan_out(directory, chatty_module,
                                      " through a module logger in extra_loggers", "report"))
        return [*rows, await long_log(directory)]
