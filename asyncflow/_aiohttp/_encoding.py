"""States, tasks and transitions as JSON-ready dicts.

Only what is safe to show leaves the process: state names, messages, counts, result
locations, and a task's value only when its Result is a
:class:`~asyncflow.results.JSONResult` (whose location is the value's JSON text).
Pickled or in-memory values are never encoded; a failed task's exception shows through its
state message only.

Every answer is strict JSON: a float that JSON cannot hold (a task returning
``float("nan")``, a parameter given from Python as ``math.inf``) is sent as the string
``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from .._core._states import Mapped, State
from .._core._task import Task
from .._results._json import JSONResult


def dumps(value: Any) -> str:
    """Compact, strict JSON: NaN and infinities as strings (see :func:`finite`), anything
    else that is not JSON (it should not happen) as its repr."""
    try:
        return _strict_dumps(value)
    except ValueError:  # a NaN or an infinity somewhere (or a reference cycle)
        return _strict_dumps(finite(value))


def _strict_dumps(value: Any) -> str:
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, default=repr, allow_nan=False
    )


def float_name(number: float) -> str:
    """How a NaN or an infinity is spelled where JSON would need it: "NaN", "Infinity"..."""
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def finite(value: Any, _path: frozenset[int] = frozenset()) -> Any:
    """``value`` with every NaN or infinite float (keys included) replaced by its
    :func:`float_name`, and a container that holds itself by the string ``"<cycle>"``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else float_name(value)
    if not isinstance(value, (dict, list, tuple)):
        return value
    if id(value) in _path:
        return "<cycle>"
    inner = _path | {id(value)}
    if isinstance(value, dict):
        return {finite(k, inner): finite(v, inner) for k, v in value.items()}
    return [finite(item, inner) for item in value]


def timestamp(when: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    return None if when is None else when.isoformat()


def result_fields(state: State) -> dict[str, Any]:
    """``location`` of the state's Result, plus ``value`` when the Result is a JSONResult."""
    result = state._result
    location = result.location
    fields: dict[str, Any] = {"location": location if isinstance(location, str) else None}
    if isinstance(result, JSONResult) and isinstance(location, str):
        # A JSONResult's location is the value's JSON text; if it does not parse, leave
        # the value out rather than show something else.
        with contextlib.suppress(ValueError):
            fields["value"] = json.loads(location)
    return fields


def children_json(parent: State | None, children: Mapping[int, State]) -> dict[str, Any]:
    """How many mapped children there are, and how many are in each state now."""
    total = len(parent.map_states) if isinstance(parent, Mapped) else len(children)
    counts = Counter(type(s).__name__ for s in children.values())
    not_seen = total - len(children)
    if not_seen > 0:
        counts["Pending"] += not_seen
    return {"total": total, "states": dict(sorted(counts.items()))}


def task_json(
    task: Task[Any], state: State | None, children: Mapping[int, State] | None
) -> dict[str, Any]:
    """One task of a run: its state now, its result's location and, if mapped, its children."""
    out: dict[str, Any] = {
        "name": task.name,
        "slug": task.slug,
        "state": type(state).__name__ if state is not None else "Pending",
        "message": state.message if state is not None else None,
        "run_count": state.run_count if state is not None else 0,
        "map_index": None,
    }
    if children is not None or isinstance(state, Mapped):
        out["children"] = children_json(state, children or {})
    if state is not None and state.is_finished():
        out.update(result_fields(state))
    else:
        out["location"] = None
    return out


def transition_json(
    run_id: str,
    seq: int,
    obj: Any,
    old: State,
    new: State,
    at: datetime.datetime,
) -> dict[str, Any]:
    """One state transition of a run, as sent in its event stream."""
    is_task = isinstance(obj, Task)
    return {
        "seq": seq,
        "run_id": run_id,
        "kind": "task" if is_task else "flow",
        "task": obj.name if is_task else None,
        "slug": obj.slug if is_task else None,
        "map_index": new.map_index if is_task else None,
        "old": type(old).__name__,
        "new": type(new).__name__,
        "message": new.message,
        "run_count": new.run_count,
        "at": timestamp(at),
    }
