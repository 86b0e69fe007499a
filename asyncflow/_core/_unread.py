"""Values a run kept from an earlier run without reading them back.

A restart (``flow.run(restart_from=...)``) keeps the task runs that had succeeded and
reads a kept value from its Result only when a task that runs needs it. The other kept
states carry an :class:`UnreadValue` where the value would be, never a misleading
``None``: ``state.result_of(task)`` refuses it with an error that names the accessor,
and ``await state.load_result()`` / ``await flow_state.load_result_of(task)`` read it
from its Result's location on demand (then keep it in the state).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import anyio

from ._exceptions import FlowRunError

if TYPE_CHECKING:
    from ._state import State

#: Kept values of one mapped task read at the same time.
READ_CONCURRENCY = 64


class UnreadValue:
    """Stands where a kept value is until it is read: ``location`` is where its Result
    stored it in flow run ``run_id``, None when it was not persisted (then it cannot be
    read back)."""

    __slots__ = ("location", "run_id")

    def __init__(self, run_id: int, location: str | None) -> None:
        self.run_id = run_id
        self.location = location

    def __repr__(self) -> str:
        if self.location is None:
            return (f"<value of flow run {self.run_id}, not persisted: it cannot be read "
                    "back>")
        return (f"<value kept from flow run {self.run_id}, not read yet: "
                "await state.load_result()>")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, UnreadValue) and other.run_id == self.run_id
                and other.location == self.location)

    def __hash__(self) -> int:
        return hash((self.run_id, self.location))


def unread_in(state: State) -> UnreadValue | None:
    """The first kept value ``state`` (or a child of a mapped ``state``) has not read."""
    value = state.result
    if isinstance(value, UnreadValue):
        return value
    for child in getattr(state, "map_states", ()):
        found = unread_in(child)
        if found is not None:
            return found
    return None


def unread_error(name: str, unread: UnreadValue) -> FlowRunError:
    """The error of ``result_of`` for a task whose kept value was not read."""
    if unread.location is None:
        return _not_persisted(f"task {name!r}", unread)
    return FlowRunError(
        f"task {name!r} was kept from flow run {unread.run_id} and this run did not need "
        f"its value, so it was not read back (it is stored at {unread.location!r}). Read "
        "it with `await state.load_result_of(task)`"
    )


def _not_persisted(what: str, unread: UnreadValue) -> FlowRunError:
    return FlowRunError(
        f"{what} was kept from flow run {unread.run_id}, whose result was not persisted, "
        "so its value cannot be read back. Persist it (a persisting Result and "
        "checkpointing on) to be able to read it after a restart, or run the flow afresh"
    )


def _readable(state: State) -> bool:
    value = state.result
    return isinstance(value, UnreadValue) and value.location is not None


async def load_value(state: State) -> Any:
    """The value ``state`` carries, reading a kept value (and a mapped state's kept
    children's values) from its Result if this run has not read it yet."""
    children = getattr(state, "map_states", None)
    if children and any(unread_in(child) is not None for child in children):
        values: list[Any] = [None] * len(children)
        limiter = anyio.CapacityLimiter(READ_CONCURRENCY)

        async def load_child(k: int, child: State) -> None:
            async with limiter:
                values[k] = await load_value(child)

        async with contextlib.AsyncExitStack() as stack:
            first = next((c for c in children if _readable(c)), None)
            if first is not None:  # one client for every read (S3, GCS)
                await stack.enter_async_context(first._result)
            async with anyio.create_task_group() as tg:
                for k, child in enumerate(children):
                    tg.start_soon(load_child, k, child)
        state.result = values
        return values
    value = state.result
    if not isinstance(value, UnreadValue):
        return value
    if value.location is None:
        raise _not_persisted(f"this {type(state).__name__} state", value)
    stored = state._result
    state._result = await stored.read(value.location)
    return state.result
