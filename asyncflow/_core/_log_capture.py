"""Capturing what a task run logs, and with ``log_stdout=True`` what it prints.

A consumer (the run history) calls :func:`start_capture` for a flow run with a *sink*:
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

``print`` in a task declared ``log_stdout=True`` goes to that task run's logger at INFO,
a line per record, instead of to the process's standard output: :func:`capture_prints`
puts a proxy in front of ``sys.stdout`` which sends what is written to the task run
whose context the writer runs in, and everything else, other tasks' prints included,
to the stream it replaced.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._context import FlowRunContext, TaskRunContext

#: Records at this level or above are captured whatever the logger's own level.
CAPTURE_LEVEL = logging.INFO

Sink = Callable[["TaskRunContext", logging.LogRecord], None]

_sinks: dict[Any, Sink] = {}


def start_capture(fctx: FlowRunContext, sink: Sink) -> None:
    """Send the logs of ``fctx``'s task runs to ``sink`` until :func:`stop_capture`."""
    _sinks[fctx] = sink


def stop_capture(fctx: FlowRunContext) -> None:
    _sinks.pop(fctx, None)


def capturing() -> bool:
    """Whether some flow run's logs are being captured (the cheap check before the rest)."""
    return bool(_sinks)


def log_and_capture(
    logger: logging.Logger, level: int, msg: object, args: tuple[Any, ...],
    kwargs: Mapping[str, Any], tctx: TaskRunContext | None, fctx: FlowRunContext | None,
) -> None:
    """Log like ``logger.log`` would, and hand the record to the sink of the flow run
    ``fctx`` for its task run ``tctx``.

    Called by the run logger while :func:`capturing`; ``kwargs`` are ``logger.log``'s
    (``exc_info``, ``extra``, ``stack_info``, ``stacklevel``).
    """
    sink = _sinks.get(fctx) if tctx is not None and fctx is not None else None
    enabled = logger.isEnabledFor(level)
    if sink is None or tctx is None or (level < CAPTURE_LEVEL and not enabled):
        if enabled:
            logger.log(level, msg, *args, **{**kwargs,
                                             "stacklevel": kwargs.get("stacklevel", 1) + 2})
        return
    exc_info = kwargs.get("exc_info")
    if exc_info:
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        elif not isinstance(exc_info, tuple):
            exc_info = sys.exc_info()
    try:
        # The caller's caller: skip this function and the run logger's ``log``.
        fn, lno, func, sinfo = logger.findCaller(bool(kwargs.get("stack_info")),
                                                 int(kwargs.get("stacklevel", 1)) + 2)
    except ValueError:  # no Python frame to name (an embedded interpreter)
        fn, lno, func, sinfo = "(unknown file)", 0, "(unknown function)", None
    record = logger.makeRecord(logger.name, level, fn, lno, msg, args, exc_info or None,
                               func, kwargs.get("extra"), sinfo)
    if enabled:
        logger.handle(record)
    sink(tctx, record)


# ---- prints ------------------------------------------------------------------------------
class _Lines:
    """What one task run prints, logged a line at a time."""

    __slots__ = ("logger", "partial")

    def __init__(self, logger: logging.LoggerAdapter[logging.Logger]) -> None:
        self.logger = logger
        self.partial = ""

    def write(self, text: str) -> None:
        if "\n" not in text:
            self.partial += text
            return
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        for line in lines:
            self.logger.info("%s", line.rstrip("\r"))

    def close(self) -> None:
        if self.partial:
            partial, self.partial = self.partial, ""
            self.logger.info("%s", partial)


_prints_var: ContextVar[_Lines | None] = ContextVar("asyncflow_prints", default=None)


class StdoutProxy(io.TextIOBase):
    """Stands in for ``sys.stdout``: a ``log_stdout`` task run's writes go to its logger,
    all others to the stream this proxy replaced."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        lines = _prints_var.get()
        if lines is None:
            return self.stream.write(text)
        lines.write(text)
        return len(text)

    def flush(self) -> None:
        if _prints_var.get() is None:
            self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.stream, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def capture_prints(logger: logging.LoggerAdapter[logging.Logger]) -> Token[_Lines | None]:
    """Send what the current context prints to ``logger`` (until :func:`release_prints`)."""
    if not isinstance(sys.stdout, StdoutProxy):
        sys.stdout = StdoutProxy(sys.stdout)
    return _prints_var.set(_Lines(logger))


def release_prints(token: Token[_Lines | None]) -> None:
    """Log the last unfinished line, and print to the real stream again."""
    lines = _prints_var.get()
    _prints_var.reset(token)
    if lines is not None:
        lines.close()
