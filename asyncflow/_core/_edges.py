"""Edges between tasks, and the markers that say how a mapped task uses an input."""

from __future__ import annotations

import keyword
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ._exceptions import CycleError, EdgeError

if TYPE_CHECKING:
    from ._flow import Flow
    from ._task import Task


class Edge:
    """A dependency: ``downstream`` runs after ``upstream``.

    With a ``key`` the upstream's result is passed to the downstream as that keyword
    argument (a data edge); without one the edge only orders the two (a state edge).
    ``mapped`` edges give each mapped child one element of the upstream's result;
    ``flattened`` ones first flatten a list of lists by one level. The upstream may be
    given wrapped in :class:`mapped`, :class:`unmapped` or :class:`flatten`, which take
    precedence over the keyword arguments. Edges are immutable and hash by value.
    """

    __slots__ = ("_hash", "downstream_task", "flattened", "key", "mapped", "upstream_task")

    upstream_task: Task[Any]
    downstream_task: Task[Any]
    key: str | None
    mapped: bool
    flattened: bool
    _hash: int

    def __init__(
        self,
        upstream_task: Any,
        downstream_task: Task[Any],
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
    ) -> None:
        while isinstance(upstream_task, EdgeAnnotation):
            if isinstance(upstream_task, flatten):
                flattened = True
            else:
                mapped = isinstance(upstream_task, _mapped)
            upstream_task = upstream_task.value
        if upstream_task is downstream_task:
            raise CycleError(
                f"Edges can not connect a task to itself: {upstream_task!r}. "
                "A task cannot depend on its own result."
            )
        if key is not None and not (isinstance(key, str) and key.isidentifier()
                                    and not keyword.iskeyword(key)):
            raise EdgeError(
                f"edge key {key!r} is not a valid argument name; a key names the keyword "
                "argument the downstream task receives, e.g. key='data'"
            )
        set_ = object.__setattr__
        set_(self, "upstream_task", upstream_task)
        set_(self, "downstream_task", downstream_task)
        set_(self, "key", key)
        set_(self, "mapped", bool(mapped))
        set_(self, "flattened", bool(flattened))
        set_(self, "_hash", hash(self._tuple()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Edge is immutable; make a new Edge instead of setting {name!r}")

    def _tuple(self) -> tuple[Any, ...]:
        return (self.upstream_task, self.downstream_task, self.key, self.mapped, self.flattened)

    @property
    def tasks(self) -> set[Task[Any]]:
        """The two tasks the edge connects."""
        return {self.upstream_task, self.downstream_task}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Edge):
            return NotImplemented
        return self._hash == other._hash and self._tuple() == other._tuple()

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return (Edge, (self.upstream_task, self.downstream_task, self.key, self.mapped,
                       self.flattened))

    def __repr__(self) -> str:
        key = f" ({self.key!r})" if self.key else ""
        kind = " mapped" if self.mapped else ""
        up = getattr(self.upstream_task, "name", self.upstream_task)
        down = getattr(self.downstream_task, "name", self.downstream_task)
        return f"<Edge{kind}: {up} -> {down}{key}>"


class EdgeAnnotation:
    """Base of the markers that say how a task uses an input: mapped, unmapped, flattened."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(EdgeAnnotation):  # noqa: N801 - the name users know
    """Pass this input whole to every child of a ``task.map(...)`` call."""

    __slots__ = ()


class mapped(EdgeAnnotation):  # noqa: N801 - the name users know
    """Map over this input, in an ordinary call (``t(x=mapped(items))`` is ``t.map(x=items)``)."""

    __slots__ = ()


_mapped = mapped


class flatten(EdgeAnnotation):  # noqa: N801 - the name users know
    """Use the elements of a list of lists, flattened by one level (map over them inside
    ``task.map``; receive the flat list in an ordinary call)."""

    __slots__ = ()


building_flow_var: ContextVar[Flow | None] = ContextVar("asyncflow_building_flow", default=None)
