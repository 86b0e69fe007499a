"""Edges between tasks, and the markers that say how a mapped task uses an input."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._flow import Flow
    from ._task import Task


class Edge:
    """A dependency: ``downstream`` runs after ``upstream``.

    With a ``key`` the upstream's result is passed to the downstream as that keyword
    argument (a data edge); without one the edge only orders the two (a state edge).
    ``mapped`` edges give each mapped child one element of the upstream's result;
    ``flattened`` ones first flatten a list of lists by one level.
    """

    __slots__ = ("downstream_task", "flattened", "key", "mapped", "upstream_task")

    def __init__(
        self,
        upstream_task: Task[Any],
        downstream_task: Task[Any],
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
    ) -> None:
        self.upstream_task = upstream_task
        self.downstream_task = downstream_task
        self.key = key
        self.mapped = mapped
        self.flattened = flattened

    def _tuple(self) -> tuple[Any, ...]:
        return (self.upstream_task, self.downstream_task, self.key, self.mapped, self.flattened)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Edge):
            return NotImplemented
        return self._tuple() == other._tuple()

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __repr__(self) -> str:
        key = f" ({self.key!r})" if self.key else ""
        kind = " mapped" if self.mapped else ""
        return f"<Edge{kind}: {self.upstream_task.name} -> {self.downstream_task.name}{key}>"


class unmapped:  # noqa: N801 - the name users know
    """Pass this input whole to every child of a ``task.map(...)`` call."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"unmapped({self.value!r})"


class flatten:  # noqa: N801 - the name users know
    """Map over the elements of a list of lists, flattened by one level."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"flatten({self.value!r})"


building_flow_var: ContextVar[Flow | None] = ContextVar("asyncflow_building_flow", default=None)
