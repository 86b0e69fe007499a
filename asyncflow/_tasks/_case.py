"""``case``: a block of a flow whose tasks run only when a task's result equals a value.

::

    with Flow("deploy") as flow:
        env = Parameter("env")
        with case(env, "prod"):
            approved = ask_for_approval()
            release(approved)
        with case(env, "dev"):
            release_now()

When the block closes, a comparison task (which raises SKIP on a mismatch) is made
upstream of every task created in the block that has no upstream among them; the skip
spreads to the rest of the block, and beyond it unless a task sets
``skip_on_upstream_skip=False`` (as ``merge`` does).
"""

from __future__ import annotations

from contextvars import Token
from typing import TYPE_CHECKING, Any

from .._core._blocks import TaskBlock, open_blocks_var
from .._core._exceptions import FlowDefinitionError
from .._core._task import Task
from ._conditional import CompareValue

if TYPE_CHECKING:
    from .._core._flow import Flow


class case:  # noqa: N801 - the name Prefect users know
    """Tasks created inside ``with case(task, value):`` run only if ``task``'s result
    equals ``value``; otherwise they end Skipped. ``value`` is a plain value, not a task.
    """

    def __init__(self, task: Any, value: Any) -> None:
        if isinstance(value, Task):
            raise FlowDefinitionError(
                f"case() compares {task!r} with a plain value, got the task {value!r}; "
                f"compare two tasks with case({task!r}.is_equal({value!r}), True)"
            )
        self.task = task
        self.value = value
        self._tasks: dict[Task[Any], None] = {}
        self._flow: Flow | None = None
        self._tokens: list[Token[tuple[TaskBlock, ...]]] = []

    def add_task(self, task: Task[Any], flow: Flow) -> None:
        """Called by the flow for each task it gains while the block is open."""
        if self._flow is None:
            self._flow = flow
        elif self._flow is not flow:
            raise FlowDefinitionError(
                f"case({self.task!r}, {self.value!r}) already holds tasks of flow "
                f"{self._flow.name!r}; a case block builds one flow, so open a new case "
                f"for flow {flow.name!r}"
            )
        self._tasks[task] = None

    def __enter__(self) -> case:
        self._tokens.append(open_blocks_var.set((*open_blocks_var.get(), self)))
        return self

    def __exit__(self, *exc: object) -> None:
        open_blocks_var.reset(self._tokens.pop())
        flow = self._flow
        if flow is None or exc[0] is not None:
            return
        members = self._tasks
        condition = CompareValue(self.value, name=f"case({self.value!r})")
        flow.set_dependencies(condition, keyword_tasks={"value": self.task})
        for child in list(members):
            if not any(up in members for up in flow.upstream_tasks(child)):
                flow.add_edge(condition, child)
