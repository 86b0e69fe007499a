"""Which kept values a restart needs, and reading them from their Results.

A kept task run's state comes back with its Result at the recorded location and an
:class:`~asyncflow._core._unread.UnreadValue` where the value would be. A value is read
only when a task run that runs again takes it as an input: a task
that runs needs every data input it has; a mapped task that runs only some children
again needs, over a mapped edge from a mapped task, just the same children's values.

A value that cannot be had (the task's Result does not persist, no location was
recorded, or reading it fails) does not stop the restart: that task run runs again, with
a note in its final message saying why, and then its own inputs are needed in turn.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._core._states import Mapped, Skipped, State
from .._core._unread import UnreadValue
from .._results._json import JSONResult
from ._records import TaskRunRecord

if TYPE_CHECKING:
    from .._core._flow import Flow
    from .._core._plan import _Plan
    from .._results._base import Result

#: Values read at the same time.
READ_CONCURRENCY = 64

Key = tuple[int, int | None]  # (position in the flow's order, map index)


@dataclass
class Kept:
    """The task runs a restart keeps and runs again, settled by :func:`settle_values`."""

    flow: Flow
    plan: _Plan
    run_id: int
    #: Tasks that run again, whole.
    run_full: set[int] = field(default_factory=set)
    #: Kept states of tasks that are not mapped (or were not mapped into children).
    states: dict[int, State] = field(default_factory=dict)
    #: Kept mapped tasks: their Mapped state and one slot per child (None: runs again).
    mapped: dict[int, tuple[Mapped, list[State | None]]] = field(default_factory=dict)
    #: The children of each kept mapped task that run again.
    partial: dict[int, set[int]] = field(default_factory=dict)
    records: dict[Key, TaskRunRecord] = field(default_factory=dict)
    notes: dict[Key, str] = field(default_factory=dict)
    needed: set[Key] = field(default_factory=set)
    loaded: set[Key] = field(default_factory=set)
    unreadable: dict[Key, str] = field(default_factory=dict)

    def state(self, key: Key) -> State | None:
        i, k = key
        if k is None:
            return self.states.get(i)
        found = self.mapped.get(i)
        return found[1][k] if found is not None else None

    def template(self, i: int) -> Result | None:
        task = self.plan.tasks[i]
        result: Result | None = task.result if task.result is not None else self.flow.result
        return result

    def source(self, key: Key) -> tuple[Result, str] | None:
        """The Result and location a kept value is read from, or None if it has none."""
        record = self.records[key]
        template = self.template(key[0])
        if template is None or key in self.unreadable:
            return None
        if record.result_json is not None and isinstance(template, JSONResult):
            return template, record.result_json
        if record.result_location is not None and template.persists:
            return template, record.result_location
        return None

    def needs_nothing(self, key: Key) -> bool:
        return isinstance(self.state(key), Skipped)  # a skipped task's value is None

    def slug(self, i: int) -> str:
        task = self.plan.tasks[i]
        return task.slug or task.name

    def why(self, key: Key, needer: int) -> str:
        unreadable = self.unreadable.get(key)
        if unreadable is not None:
            return (f"Run again: its result from flow run {self.run_id} could not be read "
                    f"({unreadable}), and {self.slug(needer)} needs it.")
        return (f"Run again: its result from flow run {self.run_id} was not persisted, "
                f"and {self.slug(needer)} needs it.")


def attach_locations(kept: Kept) -> None:
    """Give every kept state its Result at the recorded location, holding an
    :class:`UnreadValue` until its value is read (if ever)."""
    for key in kept.records:
        state = kept.state(key)
        if state is None or kept.needs_nothing(key):
            continue
        source = kept.source(key)
        if source is None:
            state.result = UnreadValue(kept.run_id, None)
            continue
        template, location = source
        placeholder = template.copy()
        placeholder.location = location
        placeholder.value = UnreadValue(kept.run_id, location)
        state._result = placeholder


def _run_again(kept: Kept, key: Key, needer: int, queue: deque[int]) -> None:
    i, k = key
    kept.notes[key] = kept.why(key, needer)
    if k is None:
        kept.states.pop(i, None)
        kept.run_full.add(i)
    else:
        kept.mapped[i][1][k] = None
        kept.partial[i].add(k)
    queue.append(i)


def _children_needed(kept: Kept, i: int, edge: Any, u: int) -> Iterable[int]:
    """Which children of the kept mapped task ``u`` task ``i`` takes values from."""
    n = len(kept.mapped[u][1])
    if i in kept.run_full or not edge.mapped or edge.flattened or not kept.plan.mapped[i]:
        return range(n)
    return [k for k in kept.partial.get(i, ()) if k < n]


def find_needed(kept: Kept, queue: deque[int]) -> None:
    """Add to ``kept.needed`` the kept values that the task runs in ``queue`` (and
    whatever runs again because a value is missing) take as inputs."""
    plan = kept.plan
    while queue:
        i = queue.popleft()
        if i not in kept.run_full and not kept.partial.get(i):
            continue  # kept whole: it takes nothing
        for edge, u in plan.in_edges[i]:
            if edge.key is None or u in kept.run_full:
                continue
            if u in kept.mapped:
                again = kept.partial[u]
                for k in _children_needed(kept, i, edge, u):
                    key: Key = (u, k)
                    if k in again or key in kept.needed or kept.needs_nothing(key):
                        continue
                    if kept.source(key) is None:
                        _run_again(kept, key, i, queue)
                    else:
                        kept.needed.add(key)
            elif u in kept.states:
                key = (u, None)
                if key in kept.needed or kept.needs_nothing(key):
                    continue
                if kept.source(key) is None:
                    _run_again(kept, key, i, queue)
                else:
                    kept.needed.add(key)


async def _read(kept: Kept, keys: list[Key]) -> dict[Key, str]:
    """Read the values of ``keys`` into their states; why each failed read failed."""
    failures: dict[Key, str] = {}
    by_template: dict[int, tuple[Result, list[tuple[Key, State, str]]]] = {}
    for key in keys:
        state = kept.state(key)
        source = kept.source(key)
        if state is None or source is None:
            continue
        template, location = source
        by_template.setdefault(id(template), (template, []))[1].append((key, state, location))

    async def worker(opened: Result, items: list[tuple[Key, State, str]]) -> None:
        while items:
            key, state, location = items.pop()
            try:
                state._result = await opened.read(location)
            except Exception as exc:
                failures[key] = f"{type(exc).__name__}: {exc}"

    async with contextlib.AsyncExitStack() as stack:
        opened_templates = [(await stack.enter_async_context(template), items)
                            for template, items in by_template.values()]
        async with anyio.create_task_group() as tg:
            for opened, items in opened_templates:
                for _ in range(min(READ_CONCURRENCY, len(items))):
                    tg.start_soon(worker, opened, items)
    return failures


async def settle_values(kept: Kept) -> int:
    """Decide what runs again and read the kept values it needs; how many were read."""
    attach_locations(kept)
    queue = deque(sorted(kept.run_full | set(kept.partial)))
    read = 0
    while True:
        find_needed(kept, queue)
        pending = [key for key in kept.needed
                   if key not in kept.loaded and kept.state(key) is not None]
        if not pending:
            return read
        failures = await _read(kept, pending)
        kept.loaded.update(pending)
        read += len(pending) - len(failures)
        if not failures:
            continue
        for key, why in failures.items():
            kept.unreadable[key] = why
            kept.needed.discard(key)
            kept.loaded.discard(key)
        # Whoever needed an unreadable value looks for it again and finds it missing.
        queue.extend(sorted(kept.run_full | set(kept.partial)))
