"""Handlers built from small parts: callback_factory and on_failure.

Run: python examples/callbacks.py   (or: asyncflow run examples/callbacks.py)
"""

from __future__ import annotations

import datetime
from typing import Any

from asyncflow import Flow, task
from asyncflow.notifications import callback_factory
from asyncflow.states import State

sent: list[str] = []


def send_post(task: Any, state: State) -> None:
    # In production this would post to a webhook; see examples/slack_alerts.py.
    msg = f"Task {task} failed and is retrying at {state.start_time}"  # type: ignore[attr-defined]
    sent.append(msg)


post_on_retry = callback_factory(send_post, lambda s: s.is_retrying())


def report_failure(obj: Any, state: State) -> None:
    sent.append(f"{obj} failed: {state.message}")


@task(max_retries=1, retry_delay=datetime.timedelta(0), state_handlers=[post_on_retry],
      on_failure=report_failure)
def always_fails() -> None:
    raise ValueError("bad data")


def build() -> Flow:
    with Flow("callbacks", on_failure=report_failure) as flow:
        always_fails()
    return flow


flow = build()  # what `asyncflow run examples/callbacks.py` runs (it fails on purpose)

if __name__ == "__main__":
    build().run_sync()
    print("\n".join(sent))
