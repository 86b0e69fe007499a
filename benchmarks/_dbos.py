"""DBOS itself, for the durable-run rows of ``bench_restart``: the same 1,000 steps (each
returns ``x + 1``) as a DBOS workflow of async steps on a SQLite system database.

DBOS is optional (``pip install 'asyncflow-engine[bench]'``); :func:`start` says why it
cannot be measured when it cannot. It runs here entirely offline: a SQLite file in a temp
dir, no Postgres, no Conductor (no key is given), no OTLP export.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Workflow = Callable[[int], Awaitable[int]]


@contextmanager
def start(directory: Path) -> Iterator[tuple[Workflow, Workflow] | str]:
    """DBOS launched on a SQLite file in ``directory``: ``(chain, fan_out)`` workflows of
    ``n`` steps, or the reason DBOS cannot be measured."""
    try:
        dbos_module: Any = importlib.import_module("dbos")
    except ImportError as exc:
        yield (f"dbos is not installed ({exc}); install it with "
               "pip install 'asyncflow-engine[bench]'")
        return
    dbos_class = dbos_module.DBOS
    dbos_class(config={
        "name": "asyncflow-bench",
        "system_database_url": f"sqlite:///{directory / 'dbos.sqlite'}",
        "log_level": "WARNING",
    })

    async def inc(x: int) -> int:
        return x + 1

    step: Workflow = dbos_class.step()(inc)

    async def chain(n: int) -> int:
        x = 0
        for _ in range(n):
            x = await step(x)
        return x

    async def fan_out(n: int) -> int:
        values = await asyncio.gather(*(step(i) for i in range(n)))
        return len(values)

    dbos_chain: Workflow = dbos_class.workflow()(chain)
    dbos_fan_out: Workflow = dbos_class.workflow()(fan_out)
    dbos_class.launch()
    try:
        yield dbos_chain, dbos_fan_out
    finally:
        dbos_class.destroy()
        logging.getLogger("dbos").handlers.clear()
