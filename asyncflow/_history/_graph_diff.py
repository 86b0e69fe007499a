"""Whether a flow is still the flow a recorded run ran: same task slugs, same edges.

A restart reuses task states by task slug, so it is only sound when every task of the
flow has the slug and the upstream edges (upstream slug, input key, mapped or not) it had
in the recorded run. What a task does inside may change: that is the bug being fixed.
"""

from __future__ import annotations

from typing import Any

from ._errors import GraphChangedError

#: An edge as compared: (upstream slug, downstream slug, input key, mapped).
Edge = tuple[str, str, str | None, bool]


def _in_edges(edges: list[Edge]) -> dict[str, set[tuple[str, str | None, bool]]]:
    found: dict[str, set[tuple[str, str | None, bool]]] = {}
    for up, down, key, mapped in edges:
        found.setdefault(down, set()).add((up, key, mapped))
    return found


def recorded_edges(graph: dict[str, Any]) -> list[Edge]:
    """The edges of a graph decoded by :func:`._store.decode_graph`."""
    return [(str(e[0]), str(e[1]), None if e[2] is None else str(e[2]), bool(e[3]))
            for e in graph.get("edges", ())]


def check_same_graph(
    *, flow_name: str, run_id: int, old_slugs: list[str], old_edges: list[Edge],
    new_slugs: list[str], new_edges: list[Edge],
) -> None:
    """Raise :class:`GraphChangedError` naming the tasks added, removed and rewired."""
    old, new = set(old_slugs), set(new_slugs)
    added = sorted(new - old)
    removed = sorted(old - new)
    old_in, new_in = _in_edges(old_edges), _in_edges(new_edges)
    rewired = sorted(slug for slug in old & new
                     if old_in.get(slug, set()) != new_in.get(slug, set()))
    if not (added or removed or rewired):
        return
    parts = []
    if added:
        parts.append(f"tasks added: {', '.join(added)}")
    if removed:
        parts.append(f"tasks removed: {', '.join(removed)}")
    for slug in rewired:
        was = ", ".join(_edge_text(e) for e in sorted(old_in.get(slug, set()), key=repr))
        now = ", ".join(_edge_text(e) for e in sorted(new_in.get(slug, set()), key=repr))
        parts.append(f"task {slug} rewired (its upstream was [{was}], is now [{now}])")
    raise GraphChangedError(
        f"flow {flow_name!r} changed since flow run {run_id} was recorded, so that run "
        f"cannot be restarted: {'; '.join(parts)}. A restart needs the same tasks and "
        "edges (a task's code may change); run the flow afresh, or restore its graph",
        added=added, removed=removed, rewired=rewired,
    )


def _edge_text(edge: tuple[str, str | None, bool]) -> str:
    up, key, mapped = edge
    text = up if key is None else f"{key}={up}"
    return f"{text} (mapped)" if mapped else text
