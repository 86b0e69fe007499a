"""A task with a special failure mode, and a handler that reacts to the data it carries.

Run: python examples/special_failure.py   (or: asyncflow run examples/special_failure.py)
"""

from __future__ import annotations

from typing import Any

from asyncflow import Flow, signals, task
from asyncflow.states import State


def alert_on_special_failure(task: Any, old_state: State, new_state: State) -> State:
    if new_state.is_failed() and getattr(new_state.result, "flag", False) is True:
        print("Special failure mode!  Send all the alerts!")
        print(f"a == b == {new_state.result.value}")
    return new_state


@task(state_handlers=[alert_on_special_failure])
def mission_critical_task(a: int, b: int) -> float:
    if a == b:
        fail_signal = signals.FAIL("a equaled b!")
        fail_signal.flag = True  # type: ignore[attr-defined]
        fail_signal.value = a  # type: ignore[attr-defined]
        raise fail_signal
    return 1 / (b - a)


def build() -> Flow:
    with Flow(name="state-inspection-handler") as flow:
        mission_critical_task(1, 1)
    return flow


flow = build()  # what `asyncflow run` runs; it fails on purpose

if __name__ == "__main__":
    build().run_sync()
    # Special failure mode!  Send all the alerts!
    # a == b == 1
