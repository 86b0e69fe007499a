"""Constant: a task that returns a value fixed when the flow is built."""

from __future__ import annotations

from typing import Any

from ._task import Task

_MAX_NAME = 8  # longer reprs make unreadable task names


class Constant(Task[Any]):
    """Returns ``value``. Named after the value (``1``, ``'abc'``), or ``Constant[type]``
    when its repr is long.

    ``t | 1`` and ``1 | t`` wrap the plain value in one; values passed as task
    arguments need none (they are kept as the downstream task's constants).
    """

    __slots__ = ("value",)

    def __init__(self, value: Any, name: str | None = None, **options: Any) -> None:
        if name is None:
            name = repr(value)
            if len(name) > _MAX_NAME:
                name = f"Constant[{type(value).__name__}]"
        super().__init__(name=name, **options)
        self.value = value
        self._inline = True  # no user code runs: no worker thread needed

    def run(self) -> Any:
        return self.value
