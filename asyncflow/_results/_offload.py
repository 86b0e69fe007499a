"""Run blocking storage calls in worker threads with as little overhead as possible.

Result I/O is many short blocking calls (open, write, fsync, rename), made as one
worker-thread call per read or write. On asyncio the call goes through aiofiles (its
``aiofiles.os.wrap``, one executor hop) to a thread pool of this module: a hop through
``loop.run_in_executor`` costs a third of one through ``anyio.to_thread.run_sync``, and
more threads than CPUs keep the disk busy while others wait on fsync. On any other
backend (trio) the calls go through anyio.

Either way the caller waits for the call to finish, also when it is cancelled (the
cancellation is delivered afterwards), so a write is never left running unobserved: a
call is bounded by one file operation.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from typing_extensions import TypeVarTuple, Unpack

from .._core._exceptions import MissingExtraError

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: Worker threads for result I/O on asyncio: storage calls mostly wait on the disk
#: (fsync), so more threads than CPUs keep the disk busy.
MAX_WORKERS = 32

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    executor = _executor
    if executor is None:
        with _executor_lock:
            executor = _executor
            if executor is None:
                executor = _executor = ThreadPoolExecutor(
                    MAX_WORKERS, thread_name_prefix="asyncflow-results"
                )
    return executor


def _call(*call: Any) -> Any:
    return call[0](*call[1:])


def _pool_runner() -> Callable[..., Any]:
    try:
        import aiofiles.os
    except ImportError:
        raise MissingExtraError("LocalResult", "local", "aiofiles") from None
    return aiofiles.os.wrap(_call)


_in_pool_cache: list[Callable[..., Any]] = []


async def _in_pool(*call: Any, executor: ThreadPoolExecutor) -> Any:
    if not _in_pool_cache:
        _in_pool_cache.append(_pool_runner())
    return await _in_pool_cache[0](*call, executor=executor)


def _forget_executor() -> None:  # a forked child has none of the parent's threads
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


async def run_sync(func: Callable[[Unpack[Ts]], T], *args: Unpack[Ts]) -> T:
    """``func(*args)`` in a worker thread, with the caller's context variables."""
    try:
        in_asyncio_task = asyncio.current_task() is not None
    except RuntimeError:
        in_asyncio_task = False
    if not in_asyncio_task:
        return await anyio.to_thread.run_sync(func, *args)
    context = contextvars.copy_context()
    future = asyncio.ensure_future(_in_pool(context.run, func, *args, executor=_get_executor()))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with anyio.CancelScope(shield=True):
            await asyncio.wait((future,))
        raise
