"""``Constant``: a task whose result is a value known when the flow is built.

A plain value passed where a task is needed (in ``upstream_tasks``, or mapped over as a
state dependency) becomes a Constant; it runs on the loop, without a thread.
"""

from __future__ import annotations

from typing import Any

from ._task import Task


class Constant(Task[Any]):
    """A task that returns ``value``; named after it (``Constant[int]``) unless ``name=``."""

    __slots__ = ("value",)

    def __init__(self, value: Any, name: str | None = None, **options: Any) -> None:
        self.value = value
        super().__init__(name=name if name is not None else _name_for(value), **options)
        self._inline = True

    def run(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"<Constant: {self.name}>"


def _name_for(value: Any) -> str:
    return f"Constant[{type(value).__name__}]"
