"""Capturing what a task run logs.

A consumer (the run history, the CLI's plain log, a Dask worker running a task body) calls
:func:`start_capture` for a flow run with a *sink*; from then on, until
:func:`stop_capture`, the sink is handed each line a task run of that flow run logs,
together with the task run's context, its level, time and text:

- through ``context.logger`` or ``task.logger`` (see :func:`~._context.get_logger`): at
  :data:`CAPTURE_LEVEL` and above even when the logger is not enabled for the level
  (Python's default is WARNING), and at any level the logger is enabled for;
- through any logger named :data:`TASK_LOGGER` or below it
  (``logging.getLogger("asyncflow.task.mytask")``), and through the loggers the run's
  configuration names in ``logging.extra_loggers`` and their descendants, the same way:
  each of these loggers gets a :mod:`tap <._logger_tap>` while some run captures them;
- with ``log_stdout=True``, what the task prints (see :mod:`._print_capture`).

Whether a line also reaches the logging handlers is decided by the loggers'
configuration, as without capture. A line is captured once, however many of the captured
loggers it propagates through; a line logged outside a task run is not captured.

Which run and task run a line belongs to comes from :mod:`contextvars`, so many concurrent
task runs are told apart, and so is a sync task body in its worker thread (its thread runs
in a copy of the task run's context). A sink may be called from any thread and must be
quick. Nothing is done for a line while no run is captured, nor for a task that does
not log.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._exceptions import ConfigError
from ._logger_tap import Tap, shows as shows, tap, untap
from ._run_vars import flow_run_var, task_run_var

if TYPE_CHECKING:
    from ._context import FlowRunContext, TaskRunContext

#: Records at this level or above are captured whatever the logger's own level.
CAPTURE_LEVEL = logging.INFO
#: The logger of task runs: ``context.logger`` is ``asyncflow.task.<task name>``.
TASK_LOGGER = "asyncflow.task"

#: Called with the task run, the level, the time (seconds since the epoch) and the text.
Sink = Callable[["TaskRunContext", int, float, str], None]

_sinks: dict[Any, tuple[Sink, ...]] = {}
#: The loggers each captured run asked for (:data:`TASK_LOGGER` and its extra loggers).
_run_loggers: dict[Any, frozenset[str]] = {}
_formatter = logging.Formatter()
#: Set on a record once a sink has it, so that the next tap it reaches passes it by.
_CAPTURED = "asyncflow_captured"


def start_capture(fctx: FlowRunContext, sink: Sink) -> None:
    """Send the logs of ``fctx``'s task runs to ``sink`` (too) until :func:`stop_capture`."""
    names = run_loggers(fctx)
    watch(names)
    with _lock:
        _run_loggers[fctx] = names
        _sinks[fctx] = (*_sinks.get(fctx, ()), sink)


def stop_capture(fctx: FlowRunContext, sink: Sink) -> None:
    with _lock:
        before = _sinks.get(fctx, ())
        left = tuple(s for s in before if s is not sink)
        names = _run_loggers.get(fctx, frozenset()) if len(left) < len(before) else None
        if left:
            _sinks[fctx] = left
        else:
            _sinks.pop(fctx, None)
            _run_loggers.pop(fctx, None)
    if names is not None:
        unwatch(names)


def capturing() -> bool:
    """Whether some flow run's logs are being captured (the cheap check before the rest)."""
    return bool(_sinks)


def captures(fctx: FlowRunContext | None) -> bool:
    """Whether the logs of the flow run ``fctx`` are being captured."""
    return fctx in _sinks


def deliver(fctx: FlowRunContext | None, tctx: TaskRunContext | None,
            lines: Iterable[tuple[int, float, str]]) -> None:
    """Hand lines logged elsewhere for the task run ``tctx`` (on a Dask worker, say) to
    the sinks of its flow run: each is ``(level, time, text)``."""
    sinks = _sinks.get(fctx)
    if not sinks or tctx is None:
        return
    for level, at, text in lines:
        for sink in sinks:
            sink(tctx, level, at, text)


# ---- which loggers ----------------------------------------------------------------------
def extra_loggers(config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The names in the configuration's ``logging.extra_loggers``: a list of names, or
    one string of names separated by commas."""
    section = (config or {}).get("logging")
    given = section.get("extra_loggers") if isinstance(section, Mapping) else None
    if not given:
        return ()
    if isinstance(given, str):
        given = given.split(",")
    if not isinstance(given, list | tuple) or not all(isinstance(n, str) for n in given):
        raise ConfigError(
            f"logging.extra_loggers must be a list of logger names, such as "
            f'["boto3", "myapp"] (in the environment: '
            f"ASYNCFLOW__LOGGING__EXTRA_LOGGERS='[\"boto3\", \"myapp\"]'), not {given!r}"
        )
    return tuple(n.strip() for n in given if n.strip())


def run_loggers(fctx: FlowRunContext) -> frozenset[str]:
    """The loggers captured for a run: :data:`TASK_LOGGER` and its extra loggers."""
    return frozenset((TASK_LOGGER, *extra_loggers(fctx.values.get("config"))))


_lock = threading.Lock()
#: The tapped loggers, with how many captures use each.
_taps: dict[str, tuple[Tap, int]] = {}


def watch(names: Iterable[str]) -> None:
    """Tap the loggers ``names`` (each until as many :func:`unwatch` calls)."""
    with _lock:
        for name in names:
            found = _taps.get(name)
            if found is None:
                logger = logging.getLogger(name)
                found = (tap(logger, _seer(name), CAPTURE_LEVEL), 0)
            _taps[name] = (found[0], found[1] + 1)


def unwatch(names: Iterable[str]) -> None:
    with _lock:
        for name in names:
            found = _taps.get(name)
            if found is None:
                continue
            if found[1] > 1:
                _taps[name] = (found[0], found[1] - 1)
            else:
                del _taps[name]
                untap(found[0])


def _seer(name: str) -> Callable[[logging.LogRecord], None]:
    """What the tap on the logger ``name`` does with a record: hand it to the sinks of
    the run it belongs to, if that run captures this logger."""
    everyone = name == TASK_LOGGER

    def see(record: logging.LogRecord) -> None:
        tctx = task_run_var.get()
        if tctx is None or _CAPTURED in record.__dict__:
            return
        fctx = flow_run_var.get()
        sinks = _sinks.get(fctx)
        if sinks is None or not (everyone or name in _run_loggers.get(fctx, ())):
            return
        record.__dict__[_CAPTURED] = True
        text = record_text(record)
        for sink in sinks:
            sink(tctx, record.levelno, record.created, text)

    return see


# ---- context.logger -----------------------------------------------------------------------
def log_and_capture(
    logger: logging.Logger, level: int, msg: object, args: tuple[Any, ...],
    kwargs: Mapping[str, Any], tctx: TaskRunContext | None, fctx: FlowRunContext | None,
    shown: bool,
) -> None:
    """Log like ``logger.log`` would, and hand the line to the sink of the flow run
    ``fctx`` for its task run ``tctx``.

    Called by the run logger while :func:`capturing`; ``kwargs`` are ``logger.log``'s
    (``exc_info``, ``extra``, ``stack_info``, ``stacklevel``); ``shown`` is
    :func:`shows` for the logger and level. A record is only made when the logger would
    show the level: a line that is only captured costs its formatting and a call.
    """
    sinks = _sinks.get(fctx) if tctx is not None and fctx is not None else None
    if not shown:
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
    record.__dict__[_CAPTURED] = True  # the taps it reaches pass it by
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
