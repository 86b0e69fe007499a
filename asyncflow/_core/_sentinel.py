"""Named marker objects ("no value given", "no such key") that survive pickling.

A marker unpickles as the very object of its name in the receiving process, so ``is``
checks keep working on states and contexts sent to a Dask worker and back.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Sentinel:
    """One object per name per process; compare with ``is``."""

    __slots__ = ("_name",)
    _name: str
    _by_name: ClassVar[dict[str, Sentinel]] = {}

    def __new__(cls, name: str) -> Sentinel:
        existing = cls._by_name.get(name)
        if existing is None:
            existing = super().__new__(cls)
            existing._name = name
            cls._by_name[name] = existing
        return existing

    def __reduce__(self) -> tuple[type[Sentinel], tuple[str]]:
        return (Sentinel, (self._name,))

    def __repr__(self) -> str:
        return f"<{self._name}>"


def sentinel(name: str) -> Any:
    """The marker called ``name``, typed ``Any`` so it can stand in any argument's place."""
    return Sentinel(name)
