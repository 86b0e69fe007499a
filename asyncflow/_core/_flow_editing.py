"""Editing a built flow: replace a task, merge another flow in, chain tasks.

Each edit is all or nothing: if it fails (a cycle, a clashing slug or parameter name),
the flow is left exactly as it was before the call. :class:`~asyncflow.Flow` exposes
these as ``flow.replace``, ``flow.update`` and ``flow.chain``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._blocks import open_blocks_var
from ._edges import Edge
from ._exceptions import FlowDefinitionError, TaskArgumentError
from ._parameter import Parameter
from ._task import Task

if TYPE_CHECKING:
    from ._flow import Flow


class _Undo:
    """What puts a flow back as it was when an edit fails part-way."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.saved = flow.copy()
        self.slugs: dict[Task[Any], str | None] = {}

    def reslug(self, task: Task[Any], slug: str) -> None:
        """Give ``task`` another slug, restored if the edit fails."""
        self.slugs.setdefault(task, task.slug)
        task.slug = slug

    def restore(self) -> None:
        flow, saved = self.flow, self.saved
        for task in flow._generated_slugs - saved._generated_slugs:
            if task not in saved._tasks:
                task.slug = None  # as it was before this flow named it
        for task, slug in self.slugs.items():
            task.slug = slug
        version = flow._version
        for name, value in saved.__dict__.items():
            if name == "_tokens":  # an open `with flow:` block stays open
                continue
            current = flow.__dict__.get(name)
            if isinstance(current, (dict, set)) and type(current) is type(value):
                current.clear()  # in place: whoever holds flow.constants sees it restored
                current.update(value)
            else:
                flow.__dict__[name] = value
        flow._plan = None
        flow._version = version + 1


@contextmanager
def all_or_nothing(flow: Flow) -> Iterator[_Undo]:
    """Run an edit of ``flow``; if it raises, undo everything it did."""
    undo = _Undo(flow)
    try:
        yield undo
    except BaseException:
        undo.restore()
        raise


@contextmanager
def no_open_blocks() -> Iterator[None]:
    """Build without handing tasks to an enclosing ``case`` or resource block."""
    token = open_blocks_var.set(())
    try:
        yield
    finally:
        open_blocks_var.reset(token)


def detach(flow: Flow, task: Task[Any]) -> list[Edge]:
    """Take ``task`` and its edges out of ``flow``; the edges it had."""
    edges = [*flow._upstream.pop(task, ()), *flow._downstream.pop(task, ())]
    for edge in edges:
        flow._edges.pop(edge, None)
        for table, end in ((flow._downstream, edge.upstream_task),
                           (flow._upstream, edge.downstream_task)):
            others = table.get(end)
            if others is not None and edge in others:
                others.remove(edge)
    del flow._tasks[task]
    if task.slug is not None and flow._slugs.get(task.slug) is task:
        del flow._slugs[task.slug]
    flow._generated_slugs.discard(task)
    if isinstance(task, Parameter) and flow._parameters.get(task.name) is task:
        del flow._parameters[task.name]
    flow._mapped.discard(task)
    flow._version += 1
    return edges


def indegree_below(flow: Flow, root_tasks: Iterable[Task[Any]]) -> dict[Task[Any], int]:
    """For ``root_tasks`` and every task downstream of them, its number of upstream
    edges from among them (what ``flow.sorted_tasks(root_tasks)`` sorts)."""
    below: dict[Task[Any], int] = {}
    stack = list(root_tasks)
    for task in stack:
        flow._check_member(task)
    while stack:
        node = stack.pop()
        if node not in below:
            below[node] = 0
            stack.extend(e.downstream_task for e in flow._downstream.get(node, ()))
    for node in below:
        below[node] = sum(1 for e in flow._upstream.get(node, ()) if e.upstream_task in below)
    return below


def replace(flow: Flow, old: Task[Any], new: Any, *, validate: bool = True) -> None:
    """Put ``new`` in the place of ``old``: the same edges, inputs and reference status.

    ``old``'s constant inputs move to ``new`` too (Prefect 1.x drops them). ``new`` may
    be a plain value, which becomes a :class:`~asyncflow.tasks.Constant` that keeps
    ``old``'s upstream tasks as an ordering only.
    """
    flow._check_member(old)
    if new is not old:
        with all_or_nothing(flow):
            _replace(flow, old, new, validate=validate)


def _replace(flow: Flow, old: Task[Any], new: Any, *, validate: bool) -> Task[Any]:
    stub = not isinstance(new, Task)  # a value: it needs none of old's inputs
    with no_open_blocks():
        new_task = flow._as_task(new, "replace()")
    constants = flow.constants.pop(old, {})
    mapped_keys = flow.mapped_constants.pop(old, set())
    was_reference = old in flow._reference_tasks
    edges = detach(flow, old)
    flow._reference_tasks.discard(old)
    flow.add_task(new_task)
    for edge in edges:
        into_stub = stub and edge.downstream_task is old
        flow.add_edge(  # an input of a stub is kept as an ordering only
            new_task if edge.upstream_task is old else edge.upstream_task,
            new_task if edge.downstream_task is old else edge.downstream_task,
            key=None if into_stub else edge.key,
            mapped=False if into_stub else edge.mapped,
            flattened=False if into_stub else edge.flattened,
        )
    if constants and not stub:
        taken = {e.key for e in flow._upstream.get(new_task, ())}
        mine = flow.constants.setdefault(new_task, {})
        for key, value in constants.items():
            if key not in taken:
                mine.setdefault(key, value)
        if mapped_keys:
            flow.mapped_constants.setdefault(new_task, set()).update(mapped_keys)
            flow._mapped.add(new_task)
    _check_accepts(new_task, flow)
    if was_reference:
        flow._reference_tasks.add(new_task)
    flow._version += 1
    if validate:
        flow.validate()
    return new_task


def _check_accepts(task: Task[Any], flow: Flow) -> None:
    """Raise if ``task``'s body cannot take the named inputs it now receives."""
    keys = {e.key for e in flow._upstream.get(task, ()) if e.key is not None}
    keys.update(flow.constants.get(task, {}))
    if not keys:
        return
    try:
        task.signature().bind_partial(**dict.fromkeys(keys))
    except TypeError as exc:
        raise TaskArgumentError(
            f"flow {flow.name!r}: {task!r} cannot take the inputs {sorted(keys)} of the "
            f"task it replaces ({exc}); give it a body with those parameters"
        ) from None


def update(flow: Flow, other: Flow, *, merge_parameters: bool = False,
           validate: bool | None = None) -> None:
    """Add every task, edge and constant input of ``other`` to ``flow``.

    Parameters of the same name that are different objects are an error unless
    ``merge_parameters=True``, which replaces ``flow``'s with ``other``'s (and validates).
    A task of ``other`` whose generated slug is already taken here gets a new one.
    """
    from ._flow import Flow

    if not isinstance(other, Flow):
        raise TaskArgumentError(
            f"flow.update() takes another Flow, got {type(other).__name__} {other!r}"
        )
    if other is flow:
        return
    if merge_parameters:
        validate = True
    with all_or_nothing(flow) as undo:
        for name, mine in list(flow._parameters.items()):
            theirs = other._parameters.get(name)
            if theirs is None or theirs is mine:
                continue
            if not merge_parameters:
                raise FlowDefinitionError(
                    f"flows {flow.name!r} and {other.name!r} both have a parameter named "
                    f"{name!r}; pass merge_parameters=True to use the one of flow "
                    f"{other.name!r} in both, or give one of them another name"
                )
            _replace(flow, mine, theirs, validate=False)
        with no_open_blocks():
            _add_tasks_of(flow, other, undo)
        for edge in other._edges:
            if edge not in flow._edges:
                flow.add_edge(edge.upstream_task, edge.downstream_task, key=edge.key,
                              mapped=edge.mapped, flattened=edge.flattened)
        for task, constants in other.constants.items():
            taken = {e.key for e in flow._upstream.get(task, ())}
            flow.constants.setdefault(task, {}).update(
                {k: v for k, v in constants.items() if k not in taken})
        for task, keys in other.mapped_constants.items():
            flow.mapped_constants.setdefault(task, set()).update(keys)
            flow._mapped.add(task)
        flow._version += 1
        if validate:
            flow.validate()
    for task, slug in undo.slugs.items():  # keep ``other`` consistent with the new slugs
        if slug is not None and task.slug is not None and other._slugs.get(slug) is task:
            del other._slugs[slug]
            other._slugs[task.slug] = task


def _add_tasks_of(flow: Flow, other: Flow, undo: _Undo) -> None:
    for task in other._tasks:
        if task in flow._tasks:
            continue
        holder = flow._slugs.get(task.slug) if task.slug is not None else None
        if holder is not None:
            if task not in other._generated_slugs:
                raise FlowDefinitionError(
                    f"flow {flow.name!r} already has a task with slug {task.slug!r} "
                    f"({holder!r}), which {other.name!r}'s {task!r} also has; slugs are "
                    "unique, so give one of them another slug"
                )
            undo.reslug(task, _free_slug(task.name, flow, other))
        flow.add_task(task)
        if task in other._generated_slugs:
            flow._generated_slugs.add(task)


def _free_slug(name: str, *flows: Flow) -> str:
    count = 1
    while any(f"{name}-{count}" in f._slugs for f in flows):
        count += 1
    return f"{name}-{count}"


def chain(flow: Flow, *tasks: Task[Any], validate: bool | None = None) -> list[Edge]:
    """Make each task depend on the one before it; the new edges."""
    for position, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise TaskArgumentError(
                f"flow.chain() takes tasks, got {task!r} ({type(task).__name__}) as "
                f"argument {position + 1}; decorate functions with @task and call them in "
                "the flow first"
            )
    with all_or_nothing(flow):
        for task in tasks:
            flow.add_task(task)
        edges = [flow.add_edge(up, down) for up, down in itertools.pairwise(tasks)]
        if validate:
            flow.validate()
    return edges
