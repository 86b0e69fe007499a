"""The drawing model: a flow's tasks and edges as plain nodes and arrows.

Every output format (SVG, DOT, Mermaid) draws the same :class:`Graph`, so what a picture
shows (labels, mapped tasks, state colours, child counts) is decided once, here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core._parameter import Parameter
from .._core._states import Mapped, State

if TYPE_CHECKING:
    from .._core._flow import Flow
    from .._core._task import Task


@dataclass
class Node:
    """One task as drawn: its label, its kind and, when a run is shown, its state."""

    id: str
    label: str
    slug: str
    is_parameter: bool = False
    is_mapped: bool = False
    state: State | None = None
    #: For a mapped task whose run is shown: state name -> number of children in it.
    children: Counter[str] | None = None

    @property
    def n_children(self) -> int | None:
        return None if self.children is None else sum(self.children.values())

    @property
    def fill(self) -> str | None:
        return None if self.state is None else self.state.color


@dataclass
class Arrow:
    """One or more flow edges between the same two tasks, drawn as a single arrow."""

    source: int
    target: int
    keys: list[str] = field(default_factory=list)
    mapped: bool = False

    @property
    def label(self) -> str | None:
        if not self.keys:
            return None
        text = ", ".join(self.keys)
        return f"{text} (mapped)" if self.mapped else text

    @property
    def data(self) -> bool:
        """Whether the arrow passes a result (else it only orders the two tasks)."""
        return bool(self.keys)


@dataclass
class Graph:
    name: str
    nodes: list[Node]
    arrows: list[Arrow]
    with_states: bool


def build_graph(flow: Flow, flow_state: State | None = None) -> Graph:
    """The drawing model of ``flow``; with ``flow_state`` nodes carry that run's states."""
    task_states = _task_states(flow_state)
    tasks = list(flow.iter_tasks())
    name_counts = Counter(t.name for t in tasks)
    index: dict[Task[Any], int] = {}
    nodes: list[Node] = []
    for i, t in enumerate(tasks):
        index[t] = i
        slug = t.slug or t.name
        label = t.name if name_counts[t.name] == 1 else slug
        state = task_states.get(t) if task_states is not None else None
        children: Counter[str] | None = None
        if isinstance(state, Mapped):
            children = Counter(s.name for s in state.map_states)
        nodes.append(Node(
            id=f"n{i}",
            label=label,
            slug=slug,
            is_parameter=isinstance(t, Parameter),
            is_mapped=flow.is_mapped(t),
            state=state,
            children=children,
        ))
    arrows: dict[tuple[int, int], Arrow] = {}
    for t in tasks:
        for edge in flow.edges_to(t):
            pair = (index[edge.upstream_task], index[t])
            arrow = arrows.get(pair)
            if arrow is None:
                arrow = arrows[pair] = Arrow(*pair)
            if edge.key is not None:
                arrow.keys.append(edge.key)
            arrow.mapped = arrow.mapped or edge.mapped
    return Graph(flow.name, nodes, list(arrows.values()), task_states is not None)


def _task_states(flow_state: State | None) -> Mapping[Any, State] | None:
    if flow_state is None:
        return None
    result = flow_state.result
    if not isinstance(result, Mapping):
        raise TypeError(
            f"flow_state must be the state a flow run returned, whose .result maps each task "
            f"to its state; got {flow_state!r} with a result of type {type(result).__name__}"
        )
    return result


def state_summary(node: Node) -> str | None:
    """The second line of a node's label when a run is shown, e.g. ``Mapped: 10 children``."""
    if node.state is None:
        return None
    n = node.n_children
    if n is None:
        return node.state.name
    counts = node.children or Counter()
    parts = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return f"{n} children" + (f": {parts}" if parts else "")
