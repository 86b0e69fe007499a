"""The flow's graph as the engine walks it: index lists computed once per version.

A run reads its tasks by position (``plan.tasks[i]``, ``plan.downstream[i]``) rather
than through the flow's edge dicts; :func:`plan_for` builds the plan when the flow
changed since the last run and reuses it otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._edges import Edge
    from ._flow import Flow
    from ._task import Task


class _Plan:
    """The flow's graph as index lists, computed once per version of the flow."""

    __slots__ = (
        "constants",
        "downstream",
        "edges",
        "flattened",
        "has_edges",
        "in_edges",
        "index",
        "mapped",
        "mapped_keys",
        "n_up",
        "reference",
        "targeted",
        "tasks",
        "version",
    )

    def __init__(self, flow: Flow) -> None:
        self.version = flow._version
        order = flow.sorted_tasks()
        self.tasks: list[Task[Any]] = order
        self.index: dict[Task[Any], int] = {t: i for i, t in enumerate(order)}
        index = self.index
        self.in_edges: list[list[tuple[Edge, int]]] = []
        self.downstream: list[list[int]] = []
        self.n_up: list[int] = []
        for t in order:
            edges = flow._upstream.get(t, ())
            self.in_edges.append([(e, index[e.upstream_task]) for e in edges])
            self.n_up.append(len({index[e.upstream_task] for e in edges}))
            downs: dict[int, None] = {}
            for e in flow._downstream.get(t, ()):
                downs[index[e.downstream_task]] = None
            self.downstream.append(list(downs))
        self.has_edges = [bool(e) for e in self.in_edges]
        self.edges: list[list[Edge]] = [[e for e, _ in ie] for ie in self.in_edges]
        self.flattened = [any(e.flattened and not e.mapped for e, _ in ie)
                          for ie in self.in_edges]
        self.mapped = [t in flow._mapped for t in order]
        self.constants = [flow.constants.get(t) for t in order]
        self.mapped_keys = [flow.mapped_constants.get(t) for t in order]
        self.reference = [index[t] for t in flow.reference_tasks()]
        self.targeted = [t for t in order if t.target is not None]


def plan_for(flow: Flow) -> _Plan:
    """``flow``'s plan, built again only when the flow changed since the last one."""
    plan = flow._plan
    if plan is None or plan.version != flow._version:
        plan = flow._plan = _Plan(flow)
    return plan  # type: ignore[no-any-return]
