"""Building state handlers from an action and a check."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ._states import State


def callback_factory(
    fn: Callable[[Any, State], Any], check: Callable[[State], bool]
) -> Callable[[Any, State, State], Any]:
    """A state handler that calls ``fn(obj, new_state)`` whenever ``check(new_state)`` holds.

    ``fn`` may be sync or ``async def``; the handler returns ``new_state`` unchanged::

        post_to_slack = callback_factory(send_post, lambda s: s.is_retrying())
    """
    if not callable(fn) or not callable(check):
        raise TypeError("callback_factory(fn, check) takes two callables")

    if inspect.iscoroutinefunction(fn):

        async def async_handler(obj: Any, old_state: State, new_state: State) -> State:
            if check(new_state):
                await fn(obj, new_state)
            return new_state

        async_handler.__name__ = getattr(fn, "__name__", "callback")
        async_handler.__qualname__ = async_handler.__name__
        return async_handler

    def handler(obj: Any, old_state: State, new_state: State) -> State:
        if check(new_state):
            fn(obj, new_state)
        return new_state

    handler.__name__ = getattr(fn, "__name__", "callback")
    handler.__qualname__ = handler.__name__
    return handler
