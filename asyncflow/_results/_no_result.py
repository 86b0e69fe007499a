"""``NoResult``: the result of a state that never produced data.

A task that returned ``None`` has ``Result(None)``; a task that never ran (Pending,
Running, TriggerFailed, ...) has ``NoResult``. ``state.result`` is None for both, so
code that needs the distinction compares ``state._result`` with ``NoResult``.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import Self

from ._base import Result


class NoResultType(Result):
    """The type of :data:`NoResult`; there is one instance."""

    __slots__ = ()

    _instance: NoResultType | None = None

    def __new__(cls) -> NoResultType:
        instance = cls._instance
        if instance is None:
            instance = super().__new__(cls)
            Result.__init__(instance)
            cls._instance = instance
        return instance

    def __init__(self) -> None:
        pass

    def copy(self) -> Self:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoResultType)

    def __hash__(self) -> int:
        return hash(NoResultType)

    def __reduce__(self) -> tuple[Any, ...]:
        return (NoResultType, ())

    def __repr__(self) -> str:
        return "<NoResult>"

    def __setattr__(self, name: str, value: Any) -> None:
        if NoResultType._instance is self:
            raise AttributeError(
                "NoResult is shared by every state without data and cannot be changed; "
                "make a Result(value=...) instead"
            )
        object.__setattr__(self, name, value)


NoResult = NoResultType()
"""The result of a state that never produced data (compare with ``is`` or ``==``)."""
