"""Resources shared by every task of one flow run: HTTP sessions, storage clients.

A notifier or a Result asks the run for a resource by key; the first caller creates it
(others wait for it), every later caller reuses it, and the run closes them all, in
reverse order of creation, when it ends, also when it is cancelled::

    session = await run_resources.get(("aiohttp",), lambda: aiohttp.ClientSession())

The factory returns an async context manager; what its ``__aenter__`` returns is shared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, TypeVar

import anyio

T = TypeVar("T")

logger = logging.getLogger("asyncflow.resources")

CLOSE_TIMEOUT = 10.0


class RunResources:
    """A registry of async resources owned by one run and closed when it ends."""

    __slots__ = ("_closed", "_items", "_stack", "close_timeout")

    def __init__(self) -> None:
        self._stack = AsyncExitStack()
        self._items: dict[Hashable, asyncio.Future[Any]] = {}
        self._closed = False
        #: Bound on closing everything; a resource whose close waits longer may raise it.
        self.close_timeout = CLOSE_TIMEOUT

    async def get(
        self, key: Hashable, factory: Callable[[], AbstractAsyncContextManager[T]]
    ) -> T:
        """The resource stored under ``key``, entering ``factory()`` on first use."""
        fut = self._items.get(key)
        if fut is None:
            if self._closed:
                raise RuntimeError("this run has ended; its shared resources are closed")
            fut = asyncio.get_running_loop().create_future()
            self._items[key] = fut
            try:
                value = await self._stack.enter_async_context(factory())
            except BaseException as exc:
                del self._items[key]
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: the caller gets it raised here
                raise
            fut.set_result(value)
            return value
        return await asyncio.shield(fut)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    async def aclose(self) -> None:
        """Close every resource, shielded from cancellation and bounded in time."""
        if self._closed:
            return
        self._closed = True
        if not self._items:
            return
        bound = self.close_timeout
        with anyio.CancelScope(shield=True), anyio.move_on_after(bound) as scope:
            try:
                await self._stack.aclose()
            except Exception:
                logger.exception("closing a run's shared resources failed")
        if scope.cancelled_caught:
            logger.warning("closing a run's shared resources took over %ss", bound)
        self._items.clear()
