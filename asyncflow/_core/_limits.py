"""Concurrency limits: a run-wide bound on running task bodies and per-tag bounds.

A waiting task starts the moment a slot frees (slots are handed over directly, no
polling). Tag limits are shared by every run in the process on the same event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import Iterable, Mapping

from ._exceptions import FlowDefinitionError


class Limiter:
    """A FIFO counting limiter whose size can change while in use."""

    __slots__ = ("_used", "_waiters", "name", "total")

    def __init__(self, total: int, name: str = "") -> None:
        self.name = name
        self.total = total
        self._used = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        return self._used

    async def acquire(self) -> None:
        if self._used < self.total and not self._waiters:
            self._used += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was handed over as we were cancelled
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            raise

    def release(self) -> None:
        if self._used <= self.total:
            while self._waiters:
                fut = self._waiters.popleft()
                if not fut.done():
                    fut.set_result(None)  # hand the slot over: _used is unchanged
                    return
        self._used -= 1

    def _wake(self) -> None:
        while self._waiters and self._used < self.total:
            fut = self._waiters.popleft()
            if not fut.done():
                self._used += 1
                fut.set_result(None)


_tag_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Limiter]] = (
    weakref.WeakKeyDictionary()
)


def check_limit(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FlowDefinitionError(
            f"concurrency limit for {name} must be an int >= 1, got {value!r}"
        )
    return value


def tag_limiters(limits: Mapping[str, int]) -> dict[str, Limiter]:
    """The process-wide limiters for these tags on the running loop, created or resized."""
    loop = asyncio.get_running_loop()
    registry = _tag_limiters.setdefault(loop, {})
    for tag, total in limits.items():
        check_limit(f"tag {tag!r}", total)
        limiter = registry.get(tag)
        if limiter is None:
            registry[tag] = Limiter(total, tag)
        elif limiter.total != total:
            limiter.total = total
            limiter._wake()
    return registry


def limiters_for(tags: Iterable[str], registry: Mapping[str, Limiter]) -> tuple[Limiter, ...]:
    """The limiters that apply to a task with ``tags``, in a fixed order (no deadlock)."""
    return tuple(registry[t] for t in sorted(tags) if t in registry)
