"""Python operators on tasks, as in Prefect 1.x: inside ``with Flow(...)``, ``a + b``,
``a > 1``, ``a[0]`` and friends add an operator task to the flow and return it::

    with Flow("maths") as flow:
        x, y = Parameter("x"), Parameter("y")
        total = x + y * 2                 # Mul and Add tasks
        big = total > 10                  # a GreaterThan task
        same = x.is_equal(y)              # == compares tasks themselves; use is_equal
        first = x[0]                      # a GetItem task named "x[0]"
        extract | transform | load        # | orders tasks (state edges), it is not `or`

``==`` and ``!=`` keep comparing the task objects (tasks stay hashable by identity), so
equality is ``is_equal`` / ``is_not_equal``; ``or`` is ``or_``, ``not`` is ``not_``.
The operator task classes subclass Task, which subclasses this mixin: they are imported
when an operator is used, not when this module loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from ._edges import building_flow_var
from ._exceptions import FlowDefinitionError

if TYPE_CHECKING:
    from ._flow import Flow
    from ._task import Task

_MAX_SHOWN = 24  # characters of a value's repr shown in an error


def _shown(value: Any) -> str:
    from ._task import Task

    if isinstance(value, Task):
        return value.name
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _flow_for(expression: str, kind: str) -> Flow:
    flow = building_flow_var.get()
    if flow is None:
        raise FlowDefinitionError(
            f"`{expression}` builds {kind}, which belongs in a flow: write it inside "
            "`with Flow('name') as flow:`. Operators on tasks only build the graph; to "
            "compute a value now, use the plain values instead of tasks"
        )
    return flow


def _wire(op: Task[Any], expression: str, **operands: Any) -> Task[Any]:
    kind = type(op).__name__
    flow = _flow_for(expression, f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind} task")
    flow.set_dependencies(op, keyword_tasks=operands)
    return op


def _binary(op: Task[Any], symbol: str, x: Any, y: Any) -> Task[Any]:
    return _wire(op, f"{_shown(x)} {symbol} {_shown(y)}", x=x, y=y)


def _as_task(value: Any, flow: Flow) -> Task[Any]:
    """``value`` as a task of ``flow``: a task itself, a collection task, or a Constant."""
    from ._collections import collection_task
    from ._constant import Constant
    from ._task import Task

    found = collection_task(value, flow)
    return found if isinstance(found, Task) else Constant(value)


class TaskOperators:
    """The operator methods of :class:`~asyncflow.Task`."""

    __slots__ = ()

    # ---- named operators (Python's own cannot be overloaded for these) -----------------
    def is_equal(self, other: object) -> Task[Any]:
        """A task evaluating ``self == other``."""
        from ._operators import Equal

        return _wire(Equal(), f"{_shown(self)}.is_equal({_shown(other)})", x=self, y=other)

    def is_not_equal(self, other: object) -> Task[Any]:
        """A task evaluating ``self != other``."""
        from ._operators import NotEqual

        return _wire(NotEqual(), f"{_shown(self)}.is_not_equal({_shown(other)})",
                     x=self, y=other)

    def not_(self) -> Task[Any]:
        """A task evaluating ``not self``."""
        from ._operators import Not

        return _wire(Not(), f"{_shown(self)}.not_()", x=self)

    def or_(self, other: object) -> Task[Any]:
        """A task evaluating ``self or other`` (``|`` orders tasks instead)."""
        from ._operators import Or

        return _wire(Or(), f"{_shown(self)}.or_({_shown(other)})", x=self, y=other)

    # ---- indexing and ordering --------------------------------------------------------
    def __getitem__(self, key: Any) -> Task[Any]:
        """A GetItem task evaluating ``self[key]``, named like ``rows[0]`` or ``rows[i]``
        (a task key shows its name); it keeps this task's ``checkpoint`` and ``result``."""
        from ._operators import GetItem
        from ._task import Task

        me: Task[Any] = self  # type: ignore[assignment]
        index = key.name if isinstance(key, Task) else repr(key)
        name = f"{me.name}[{index}]"
        flow = _flow_for(name, "a GetItem task")
        op = GetItem(name=name, checkpoint=me.checkpoint, result=me.result)
        flow.set_dependencies(op, keyword_tasks={"task_result": self, "key": key})
        return op

    def __iter__(self) -> Iterator[NoReturn]:
        me: Task[Any] = self  # type: ignore[assignment]
        raise TypeError(
            f"task {me.name!r} is not iterable: its result does not exist while the flow is "
            f"built. Index it ({me.name}[0]) to use one element, or map a task over it "
            f"(other.map({me.name}))"
        )

    def __or__(self, other: object) -> Task[Any]:
        """``self | other``: ``other`` runs after this task (a state edge); returns it.
        A plain value becomes a Constant task."""
        flow = _flow_for(f"{_shown(self)} | {_shown(other)}", "an edge")
        down = _as_task(other, flow)
        flow.add_edge(self, down)
        return down

    def __ror__(self, other: object) -> Task[Any]:
        """``other | self``: this task runs after ``other``; returns this task."""
        flow = _flow_for(f"{_shown(other)} | {_shown(self)}", "an edge")
        up = _as_task(other, flow)
        me: Task[Any] = self  # type: ignore[assignment]
        flow.add_edge(up, me)
        return me

    # ---- arithmetic -------------------------------------------------------------------
    def __add__(self, other: object) -> Task[Any]:
        from ._operators import Add

        return _binary(Add(), "+", self, other)

    def __radd__(self, other: object) -> Task[Any]:
        from ._operators import Add

        return _binary(Add(), "+", other, self)

    def __sub__(self, other: object) -> Task[Any]:
        from ._operators import Sub

        return _binary(Sub(), "-", self, other)

    def __rsub__(self, other: object) -> Task[Any]:
        from ._operators import Sub

        return _binary(Sub(), "-", other, self)

    def __mul__(self, other: object) -> Task[Any]:
        from ._operators import Mul

        return _binary(Mul(), "*", self, other)

    def __rmul__(self, other: object) -> Task[Any]:
        from ._operators import Mul

        return _binary(Mul(), "*", other, self)

    def __truediv__(self, other: object) -> Task[Any]:
        from ._operators import Div

        return _binary(Div(), "/", self, other)

    def __rtruediv__(self, other: object) -> Task[Any]:
        from ._operators import Div

        return _binary(Div(), "/", other, self)

    def __floordiv__(self, other: object) -> Task[Any]:
        from ._operators import FloorDiv

        return _binary(FloorDiv(), "//", self, other)

    def __rfloordiv__(self, other: object) -> Task[Any]:
        from ._operators import FloorDiv

        return _binary(FloorDiv(), "//", other, self)

    def __pow__(self, other: object) -> Task[Any]:
        from ._operators import Pow

        return _binary(Pow(), "**", self, other)

    def __rpow__(self, other: object) -> Task[Any]:
        from ._operators import Pow

        return _binary(Pow(), "**", other, self)

    def __mod__(self, other: object) -> Task[Any]:
        from ._operators import Mod

        return _binary(Mod(), "%", self, other)

    def __rmod__(self, other: object) -> Task[Any]:
        from ._operators import Mod

        return _binary(Mod(), "%", other, self)

    # ---- logic and comparisons ----------------------------------------------------------
    def __and__(self, other: object) -> Task[Any]:
        """An And task evaluating ``self and other``."""
        from ._operators import And

        return _binary(And(), "&", self, other)

    def __rand__(self, other: object) -> Task[Any]:
        from ._operators import And

        return _binary(And(), "&", other, self)

    def __gt__(self, other: object) -> Task[Any]:
        from ._operators import GreaterThan

        return _binary(GreaterThan(), ">", self, other)

    def __ge__(self, other: object) -> Task[Any]:
        from ._operators import GreaterThanOrEqual

        return _binary(GreaterThanOrEqual(), ">=", self, other)

    def __lt__(self, other: object) -> Task[Any]:
        from ._operators import LessThan

        return _binary(LessThan(), "<", self, other)

    def __le__(self, other: object) -> Task[Any]:
        from ._operators import LessThanOrEqual

        return _binary(LessThanOrEqual(), "<=", self, other)
