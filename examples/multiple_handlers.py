"""Several state handlers on one task are called in the order given, and can be async.

Run: python examples/multiple_handlers.py   (or: asyncflow run examples/multiple_handlers.py)
"""

from __future__ import annotations

import datetime
from typing import Any

import anyio
import anyio.lowlevel

from asyncflow import Flow, task
from asyncflow.states import Retrying, State

calls: list[str] = []


async def page_on_call(task: Any, old_state: State, new_state: State) -> None:
    if new_state.is_retrying():
        await anyio.lowlevel.checkpoint()  # an async notifier would await its HTTP call here
        assert isinstance(new_state, Retrying)
        calls.append(f"page: {task.name} is retrying at {new_state.start_time:%H:%M:%S}")


def log_failures(task: Any, old_state: State, new_state: State) -> None:
    if new_state.is_failed():
        calls.append(f"log: {task.name} failed: {new_state.message}")


attempts = {"n": 0}


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0),
      state_handlers=[log_failures, page_on_call])
def flaky() -> str:
    attempts["n"] += 1
    if attempts["n"] == 1:
        raise ConnectionError("upstream went away")
    return "ok"


def build() -> Flow:
    with Flow("multiple-handlers") as flow:
        flaky()
    return flow


flow = build()  # what `asyncflow run examples/multiple_handlers.py` runs

if __name__ == "__main__":
    state = build().run_sync()
    print("\n".join(calls))
    print(state)
