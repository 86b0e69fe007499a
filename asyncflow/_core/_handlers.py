"""Calling state handlers: in list order, sync ones in worker threads, failures delivered.

A handler is ``handler(obj, old_state, new_state) -> State | None``, sync or async.
A returned State replaces ``new_state`` for the next handler and for the run. A handler
that raises turns the transition into ``Failed`` naming the handler and the error; that
Failed state is then delivered to every handler once (a handler that raises again is
logged, not retried), so an alert about the failure is not lost.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

import anyio.to_thread

from ._states import Failed, State

logger = logging.getLogger("asyncflow.handlers")

Handler = Callable[..., Any]

_async_cache: dict[Any, bool] = {}


def _is_async(handler: Handler) -> bool:
    try:
        return _async_cache[handler]
    except (KeyError, TypeError):
        pass
    fn = handler
    while hasattr(fn, "func") and hasattr(fn, "args"):  # functools.partial
        fn = fn.func
    # A callable that returns an awaitable without being `async def` can say so.
    result = getattr(fn, "_asyncflow_awaitable_", False) is True or inspect.iscoroutinefunction(fn) or (
        not inspect.isfunction(fn) and inspect.iscoroutinefunction(type(fn).__call__)
    )
    with contextlib.suppress(TypeError):  # unhashable handlers are simply not cached
        _async_cache[handler] = result
    return result


def handler_name(handler: Handler) -> str:
    name = getattr(handler, "__qualname__", None) or getattr(handler, "__name__", None)
    if name is None and hasattr(handler, "func"):
        name = getattr(handler.func, "__qualname__", None)
    return name or type(handler).__name__


async def _invoke(handler: Handler, obj: Any, old: State, new: State) -> Any:
    if _is_async(handler):
        return await handler(obj, old, new)
    value = await anyio.to_thread.run_sync(handler, obj, old, new)
    if inspect.isawaitable(value):
        value = await value
    return value


async def call_state_handlers(
    obj: Any, old: State, new: State, handlers: Sequence[Handler]
) -> State:
    """Run ``handlers`` on the transition ``old -> new``; return the state the object enters."""
    for handler in handlers:
        try:
            returned = await _invoke(handler, obj, old, new)
            if returned is not None and not isinstance(returned, State):
                raise TypeError(
                    f"it returned {returned!r}; a state handler returns a State or None"
                )
        except Exception as exc:
            failed = Failed(
                f"Unexpected error while calling state handler {handler_name(handler)!r} "
                f"on {obj!r} ({type(old).__name__} -> {type(new).__name__}): {exc!r}",
                result=exc,
                map_index=new.map_index,
                run_count=new.run_count,
            )
            logger.error("%s", failed.message, exc_info=exc)
            return await _deliver_failure(obj, old, failed, handlers)
        if returned is not None:
            new = returned
    return new


async def _deliver_failure(
    obj: Any, old: State, failed: State, handlers: Sequence[Handler]
) -> State:
    for handler in handlers:
        try:
            returned = await _invoke(handler, obj, old, failed)
        except Exception as exc:
            logger.error(
                "state handler %r raised again while being told of a handler failure on %r: %r",
                handler_name(handler), obj, exc,
            )
            continue
        if isinstance(returned, State):
            failed = returned
    return failed
