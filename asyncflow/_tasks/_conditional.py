"""Branches in a flow: ``switch``, ``ifelse`` and ``merge`` (Prefect 1.x's control flow).

A branch task is made downstream of a comparison task that raises SKIP when the
condition does not select it; the skip then spreads down the branch (every task skips
when an upstream skipped, unless it sets ``skip_on_upstream_skip=False``). ``merge``
brings the branches back together::

    with Flow("branches") as flow:
        ifelse(is_weekend(), relax, work)
        done = merge(relax, work)          # the result of whichever ran
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core._constant import Constant
from .._core._edges import building_flow_var
from .._core._exceptions import FlowDefinitionError
from .._core._signals import SKIP
from .._core._task import Task
from .._core._triggers import not_all_skipped

if TYPE_CHECKING:
    from .._core._flow import Flow


class CompareValue(Task[Any]):
    """Succeeds (returning nothing) when its input equals ``value``; otherwise raises SKIP."""

    __slots__ = ("value",)

    def __init__(self, value: Any, **options: Any) -> None:
        options.setdefault("name", f"CompareValue: {value!r}")
        super().__init__(**options)
        self.value = value

    def run(self, value: Any) -> None:
        if value != self.value:
            raise SKIP(f"Provided value {value!r} did not match {self.value!r}")


class _AsBool(Task[Any]):
    """``bool(x)``: the condition of an ``ifelse``."""

    __slots__ = ()

    def run(self, x: Any) -> bool:
        return bool(x)


class Merge(Task[Any]):
    """The first of its inputs that is not None (a skipped branch gives None).

    Its trigger is ``not_all_skipped``: it skips when every branch skipped.
    """

    __slots__ = ()

    def __init__(self, **options: Any) -> None:
        if options.setdefault("skip_on_upstream_skip", False):
            raise FlowDefinitionError(
                "Merge must have skip_on_upstream_skip=False: it exists to run after "
                "skipped branches"
            )
        options.setdefault("trigger", not_all_skipped)
        super().__init__(**options)
        self._inline = True  # it only picks a value: no user code runs

    def run(self, **task_results: Any) -> Any:
        for i in range(1, len(task_results) + 1):
            value = task_results[f"task_{i}"]
            if value is not None:
                return value
        return None


def _building(flow: Flow | None, what: str) -> Flow:
    if flow is None:
        flow = building_flow_var.get()
    if flow is None:
        raise FlowDefinitionError(
            f"{what} adds tasks to a flow: call it inside `with Flow('name') as flow:`, "
            "or pass flow=..."
        )
    return flow


def switch(condition: Any, cases: dict[Any, Any], *, flow: Flow | None = None) -> None:
    """Run only the task of ``cases`` whose key equals the result of ``condition``.

    The others end Skipped, and so do the tasks downstream of them (unless they set
    ``skip_on_upstream_skip=False``). A case that is not a task becomes a Constant.
    """
    flow = _building(flow, "switch()")
    if not isinstance(cases, dict):
        raise FlowDefinitionError(
            f"switch() takes its cases as a dict of value -> task, got {cases!r}; "
            "write for example switch(condition, {'a': a_task, 'b': b_task})"
        )
    for value, branch in cases.items():
        if not isinstance(branch, Task):
            branch = Constant(branch)
        match = CompareValue(value, tags=["switch"])
        flow.set_dependencies(match, keyword_tasks={"value": condition})
        flow.add_edge(match, branch)


def ifelse(condition: Any, true_task: Any, false_task: Any, *,
           flow: Flow | None = None) -> None:
    """Run ``true_task`` if ``condition``'s result is truthy, else ``false_task``.

    The other branch ends Skipped, as do the tasks downstream of it. Either branch may
    be None (then nothing runs on that side).
    """
    flow = _building(flow, "ifelse()")
    cases = {key: t for key, t in ((True, true_task), (False, false_task)) if t is not None}
    if cases:
        as_bool = _AsBool(name="as_bool")
        flow.set_dependencies(as_bool, keyword_tasks={"x": condition})
        switch(as_bool, cases, flow=flow)


def merge(*tasks: Task[Any], flow: Flow | None = None) -> Task[Any]:
    """A task giving the result of the first of ``tasks`` that was not skipped (or None).

    Meant for the ends of the branches of a ``switch``, ``ifelse`` or ``case``: only one
    of them has run. It skips when all of them skipped.
    """
    if not tasks:
        raise FlowDefinitionError("merge() needs the tasks to merge, e.g. merge(a_branch, b_branch)")
    flow = _building(flow, "merge()")
    merged = Merge()
    flow.set_dependencies(
        merged, keyword_tasks={f"task_{i}": t for i, t in enumerate(tasks, start=1)}
    )
    return merged
