"""Capturing what a task run logs (and, through :mod:`._print_capture`, what it prints).

A consumer (the run history, the CLI's plain log) calls :func:`start_capture` for a flow
run with a *sink*:
from then on, every record that a task run of that flow run logs through
``context.logger`` or ``task.logger`` (see :func:`~._context.get_logger`) is handed to the
sink together with the task run's context, at :data:`CAPTURE_LEVEL` and above even when
the logger itself is not enabled for the level (Python's default is WARNING), and at any
level the logger is enabled for. Whether the record also reaches the logging handlers
is decided by the logger's configuration, as without capture.

Which run and task run a record belongs to comes from :mod:`contextvars`, so many
concurrent task runs are told apart, and so is a sync task body in its worker thread
(its thread runs in a copy of the task run's context). A sink may be called from any
thread and must be quick.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._context import FlowRunContext, TaskRunContext

#: Records at this level or above are captured whatever the logger's own level.
CAPTURE_LEVEL = logging.INFO

#: Called with the task run, the level, the time (seconds since the epoch) and the text.
Sink = Callable[["TaskRunContext", int, float, str], None]

_sinks: dict[Any, tuple[Sink, ...]] = {}
_formatter = logging.Formatter()


def start_capture(fctx: FlowRunContext, sink: Sink) -> None:
    """Send the logs of ``fctx``'s task runs to ``sink`` (too) until :func:`stop_capture`."""
    _sinks[fctx] = (*_sinks.get(fctx, ()), sink)


def stop_capture(fctx: FlowRunContext, sink: Sink) -> None:
    left = tuple(s for s in _sinks.get(fctx, ()) if s is not sink)
    if left:
        _sinks[fctx] = left
    else:
        _sinks.pop(fctx, None)


def capturing() -> bool:
    """Whether some flow run's logs are being captured (the cheap check before the rest)."""
    return bool(_sinks)


def log_and_capture(
    logger: logging.Logger, level: int, msg: object, args: tuple[Any, ...],
    kwargs: Mapping[str, Any], tctx: TaskRunContext | None, fctx: FlowRunContext | None,
) -> None:
    """Log like ``logger.log`` would, and hand the line to the sink of the flow run
    ``fctx`` for its task run ``tctx``.

    Called by the run logger while :func:`capturing`; ``kwargs`` are ``logger.log``'s
    (``exc_info``, ``extra``, ``stack_info``, ``stacklevel``). A record is only made
    when the logger is enabled for the level: a line that is only captured costs its
    formatting and a call.
    """
    sinks = _sinks.get(fctx) if tctx is not None and fctx is not None else None
    if not logger.isEnabledFor(level):
        if sinks is not None and tctx is not None and level >= CAPTURE_LEVEL:
            text = _format(msg, args)
            exc_info = _exc_info(kwargs.get("exc_info"))
            if exc_info is not None:
                text += "\n" + _formatter.formatException(exc_info)
            at = time.time()
            for sink in sinks:
                sink(tctx, level, at, text)
        return
    if sinks is None or tctx is None:
        logger.log(level, msg, *args, **{**kwargs,
                                         "stacklevel": kwargs.get("stacklevel", 1) + 2})
        return
    try:
        # The caller's caller: skip this function and the run logger's ``log``.
        fn, lno, func, sinfo = logger.findCaller(bool(kwargs.get("stack_info")),
                                                 int(kwargs.get("stacklevel", 1)) + 2)
    except ValueError:  # no Python frame to name (an embedded interpreter)
        fn, lno, func, sinfo = "(unknown file)", 0, "(unknown function)", None
    record = logger.makeRecord(logger.name, level, fn, lno, msg, args,
                               _exc_info(kwargs.get("exc_info")), func, kwargs.get("extra"),
                               sinfo)
    logger.handle(record)
    text = record_text(record)
    for sink in sinks:
        sink(tctx, level, record.created, text)


def _format(msg: object, args: tuple[Any, ...]) -> str:
    """``msg % args`` as a LogRecord's ``getMessage`` makes it."""
    text = str(msg)
    if not args:
        return text
    if len(args) == 1 and hasattr(args[0], "keys") and isinstance(args[0], Mapping) and args[0]:
        args = args[0]  # type: ignore[assignment]
    try:
        return text % args
    except Exception as exc:  # a format string that does not match its arguments
        return f"{text!r} % {args!r} (could not be formatted: {exc})"


def _exc_info(given: Any) -> Any:
    if not given:
        return None
    if isinstance(given, BaseException):
        return (type(given), given, given.__traceback__)
    if isinstance(given, tuple):
        return given
    found = sys.exc_info()
    return found if found[0] is not None else None


def record_text(record: logging.LogRecord) -> str:
    """A record's message, and its traceback and stack if it has them."""
    text = _format(record.msg, record.args if isinstance(record.args, tuple) else (record.args,))
    if record.exc_info:
        text += "\n" + _formatter.formatException(record.exc_info)
    elif record.exc_text:
        text += "\n" + record.exc_text
    if record.stack_info:
        text += "\n" + record.stack_info
    return text
