"""Blocks of a flow definition that collect the tasks created inside them.

``with case(...)`` and ``with SomeResource(...)`` open a block; every task a flow gains
while a block is open is handed to that block (and to every enclosing one), which wires
it when the block closes. The flow calls :func:`notify_blocks` from ``add_task``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._flow import Flow
    from ._task import Task


class TaskBlock(Protocol):
    """What a block needs: to be told of each task added to a flow while it is open."""

    def add_task(self, task: Task[Any], flow: Flow) -> None: ...


open_blocks_var: ContextVar[tuple[TaskBlock, ...]] = ContextVar(
    "asyncflow_open_blocks", default=()
)


def notify_blocks(task: Task[Any], flow: Flow) -> None:
    """Hand ``task``, just added to ``flow``, to every open block."""
    for block in open_blocks_var.get():
        block.add_task(task, flow)


class NotAReferenceTask:
    """Marks tasks that tidy up after others (a resource's cleanup).

    They never decide a flow's final state by default: a flow whose work failed is
    Failed even though its cleanup succeeded.
    """

    __slots__ = ()
