"""Operator tasks: what ``a + b``, ``a > b``, ``a[k]`` and friends on tasks build.

Each evaluates one Python operator on its inputs when the flow runs. They are ordinary
tasks (sync bodies, run in worker threads, since the operands may be large values such
as data frames); a user rarely makes one by hand, except :class:`GetAttr` and
:class:`GetItem`, which also take a ``default``::

    with Flow("maths") as flow:
        total = Parameter("x") + Parameter("y")        # an Add task
        first = rows[0]                                 # a GetItem task named "rows[0]"
        host = GetAttr(default="localhost")(config, "db.host")
"""

from __future__ import annotations

import enum
from operator import attrgetter
from typing import Any

from ._task import Task


class _Default(enum.Enum):
    """The marker of "no default given" (an enum member, so it pickles as itself)."""

    NONE = "no default"

    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT = _Default.NONE


class GetItem(Task[Any]):
    """Evaluates ``task_result[key]``; with a ``default`` (here or at call time), a missing
    key or index gives the default instead of failing."""

    __slots__ = ("default",)

    def __init__(self, *, default: Any = NO_DEFAULT, **options: Any) -> None:
        super().__init__(**options)
        self.default = default

    def run(self, task_result: Any, key: Any, default: Any = NO_DEFAULT) -> Any:
        if default is NO_DEFAULT:
            default = self.default
        try:
            return task_result[key]
        except LookupError:
            if default is NO_DEFAULT:
                raise
            return default


class GetAttr(Task[Any]):
    """Evaluates ``task_result.attr``; ``attr`` may be dotted (``"a.b.c"``). With a
    ``default`` (here or at call time), a missing attribute gives the default instead of
    failing with the AttributeError."""

    __slots__ = ("default",)

    def __init__(self, *, default: Any = NO_DEFAULT, **options: Any) -> None:
        super().__init__(**options)
        self.default = default

    def run(self, task_result: Any, attr: str, default: Any = NO_DEFAULT) -> Any:
        if default is NO_DEFAULT:
            default = self.default
        try:
            return attrgetter(attr)(task_result)
        except AttributeError:
            if default is NO_DEFAULT:
                raise
            return default


# ---- arithmetic -----------------------------------------------------------------------
class Add(Task[Any]):
    """Evaluates ``x + y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x + y


class Sub(Task[Any]):
    """Evaluates ``x - y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x - y


class Mul(Task[Any]):
    """Evaluates ``x * y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x * y


class Div(Task[Any]):
    """Evaluates ``x / y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x / y


class FloorDiv(Task[Any]):
    """Evaluates ``x // y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x // y


class Pow(Task[Any]):
    """Evaluates ``x ** y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x**y


class Mod(Task[Any]):
    """Evaluates ``x % y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x % y


# ---- logic ----------------------------------------------------------------------------
class And(Task[Any]):
    """Evaluates ``x and y`` (what ``a & b`` on tasks builds)."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x and y


class Or(Task[Any]):
    """Evaluates ``x or y`` (``a.or_(b)``; ``a | b`` orders tasks instead)."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x or y


class Not(Task[Any]):
    """Evaluates ``not x`` (``a.not_()``)."""

    __slots__ = ()

    def run(self, x: Any) -> bool:
        return not x


# ---- comparisons ----------------------------------------------------------------------
class Equal(Task[Any]):
    """Evaluates ``x == y`` (``a.is_equal(b)``: ``==`` on tasks compares the tasks)."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x == y


class NotEqual(Task[Any]):
    """Evaluates ``x != y`` (``a.is_not_equal(b)``)."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x != y


class GreaterThan(Task[Any]):
    """Evaluates ``x > y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x > y


class GreaterThanOrEqual(Task[Any]):
    """Evaluates ``x >= y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x >= y


class LessThan(Task[Any]):
    """Evaluates ``x < y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x < y


class LessThanOrEqual(Task[Any]):
    """Evaluates ``x <= y``."""

    __slots__ = ()

    def run(self, x: Any, y: Any) -> Any:
        return x <= y
