"""Validation and normalisation of task and flow options, shared by Task and Flow."""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._attached import attached
from ._exceptions import FlowDefinitionError

StateHandler = Callable[..., Any]


def to_seconds(value: float | datetime.timedelta | None, option: str, owner: str) -> float | None:
    """Seconds from a number or a timedelta; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise FlowDefinitionError(
            f"{owner}: {option} must be a number of seconds or a datetime.timedelta, "
            f"got {value!r}"
        )
    if seconds < 0:
        raise FlowDefinitionError(f"{owner}: {option} must not be negative, got {value!r}")
    return seconds


def handler_list(
    handlers: Iterable[StateHandler] | None,
    on_failure: Callable[..., Any] | None,
    owner: str,
) -> tuple[StateHandler, ...]:
    """State handlers as a tuple, with ``on_failure`` appended as a failure callback."""
    if handlers is None:
        out: list[StateHandler] = []
    elif callable(handlers):
        raise FlowDefinitionError(
            f"{owner}: state_handlers takes a list of handlers; "
            f"write state_handlers=[{getattr(handlers, '__name__', 'handler')}]"
        )
    else:
        out = list(handlers)
    for handler in out:
        if not callable(handler):
            raise FlowDefinitionError(
                f"{owner}: state handler {handler!r} is not callable; a handler is a "
                "function (obj, old_state, new_state) -> State | None"
            )
    if on_failure is not None:
        if not callable(on_failure):
            raise FlowDefinitionError(
                f"{owner}: on_failure must be a callable (obj, state), got {on_failure!r}"
            )
        from ._callbacks import callback_factory

        out.append(callback_factory(on_failure, _is_failed))
    return tuple(out)


def _is_failed(state: Any) -> bool:
    return bool(state.is_failed())


def exception_types(
    retry_on: type[BaseException] | Sequence[type[BaseException]] | None, owner: str
) -> tuple[type[BaseException], ...] | None:
    if retry_on is None:
        return None
    items = (retry_on,) if isinstance(retry_on, type) else tuple(retry_on)
    for item in items:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise FlowDefinitionError(
                f"{owner}: retry_on takes exception classes, got {item!r}; "
                "write for example retry_on=[ConnectionError, TimeoutError]"
            )
    return items


def convert_result_handler(result: Any, result_handler: Any, owner: str) -> Any:
    """Turn a legacy ``result_handler=`` into the matching Result, with a warning."""
    if result_handler is None:
        return result
    warnings.warn(
        f"{owner}: result_handler= is deprecated; pass result= with a Result instead "
        "(LocalResultHandler -> LocalResult, JSONResultHandler -> JSONResult, "
        "S3ResultHandler -> S3Result, GCSResultHandler -> GCSResult)",
        DeprecationWarning,
        stacklevel=4,
    )
    if result is not None:
        raise FlowDefinitionError(f"{owner}: pass either result= or result_handler=, not both")
    return attached.result_from_handler(result_handler)
