"""The ``--json`` report: a run's final states as JSON-ready data.

::

    {"flow": "etl", "state": "Failed", "message": "Some reference tasks failed.",
     "elapsed_s": 1.52,
     "tasks": [{"name": "fetch", "slug": "fetch-1", "state": "Mapped", "message": "...",
                "map": {"total": 3, "states": {"Success": 2, "Failed": 1}},
                "children": [{"map_index": 0, "state": "Success", "location": "..."}, ...]},
               {"name": "load", "slug": "load-1", "state": "TriggerFailed", ...}]}

``location`` appears when the task's result was persisted (checkpointing), so that
``asyncflow result read LOCATION`` can show it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from .._core._flow import Flow
from .._core._states import Mapped, State


def run_report(flow: Flow, state: State, elapsed: float | None = None) -> dict[str, Any]:
    """The report of a run of ``flow`` that ended in ``state``."""
    report: dict[str, Any] = {
        "flow": flow.name,
        "state": state.name,
        "message": state.message,
    }
    if elapsed is not None:
        report["elapsed_s"] = round(elapsed, 3)
    states = state.result if isinstance(state.result, Mapping) else {}
    tasks: list[dict[str, Any]] = []
    for task in flow.sorted_tasks():
        task_state = states.get(task)
        if task_state is None:
            continue
        entry: dict[str, Any] = {
            "name": task.name,
            "slug": task.slug,
            **_state_fields(task_state),
        }
        if isinstance(task_state, Mapped):
            children = task_state.map_states
            entry["map"] = {
                "total": len(children),
                "states": dict(sorted(Counter(c.name for c in children).items())),
            }
            rows = [{"map_index": i, **_state_fields(c)} for i, c in enumerate(children)]
            if any("location" in row for row in rows):
                entry["children"] = rows
        tasks.append(entry)
    report["tasks"] = tasks
    return report


def _state_fields(state: State) -> dict[str, Any]:
    fields: dict[str, Any] = {"state": state.name, "message": state.message}
    location = result_location(state)
    if location is not None:
        fields["location"] = location
    return fields


def result_location(state: State) -> str | None:
    """Where the state's result was stored, if it was persisted."""
    if state._result_obj is None:  # only persisted or read results are attached
        return None
    location = state._result_obj.location
    return location if isinstance(location, str) else None
