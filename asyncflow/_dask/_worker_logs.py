"""What a task body logs on a Dask worker, sent back to the driver with its outcome.

When the driver captures a run's logs (the run history, the CLI's plain log), each
:class:`~._worker.TaskCall` asks the worker to capture too: around the body, the worker
registers a :class:`LogLines` as the sink of the task run's context there (see
:mod:`asyncflow._core._log_capture`), so the lines of ``context.logger``, of the loggers
below ``asyncflow.task``, of the run's ``logging.extra_loggers`` and, with
``log_stdout=True``, the body's prints are kept with their level and time. They travel
back in the outcome, whatever it is (a value, an exception, a timeout), and the driver
hands them to its own sinks for the task run that submitted the body
(:func:`~asyncflow._core._log_capture.deliver`): one attempt's lines with that attempt.

A body that logs more than :data:`MAX_LINES` lines sends the first ones back, and a
warning saying how many were left out. Lines are lost when the worker itself dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .._core._context import get_logger
from .._core._log_capture import run_loggers, start_capture, stop_capture, unwatch, watch
from .._core._print_capture import capture_prints, release_prints

if TYPE_CHECKING:
    from .._core._context import FlowRunContext, TaskRunContext

#: Lines of one body run kept to send back.
MAX_LINES = 100_000

Line = tuple[int, float, str]


class LogLines:
    """The lines one body run logs on the worker (a log capture sink)."""

    __slots__ = ("dropped", "lines")

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.dropped = 0

    def __call__(self, tctx: TaskRunContext, level: int, at: float, text: str) -> None:
        if len(self.lines) < MAX_LINES:
            self.lines.append((level, at, text))
        else:
            self.dropped += 1

    def shipped(self) -> list[Line]:
        """The lines to send back, with a warning for those left out."""
        if not self.dropped:
            return self.lines
        return [*self.lines, (logging.WARNING, time.time(),
                              f"asyncflow: {self.dropped} more log lines of this task run on "
                              f"the Dask worker were not sent back (over {MAX_LINES:,})")]


@contextmanager
def captured(fctx: FlowRunContext, lines: LogLines, *, prints: bool) -> Iterator[None]:
    """Inside the block, what the task run of the current context logs (and, with
    ``prints``, prints) goes to ``lines``."""
    start_capture(fctx, lines)
    token = capture_prints(get_logger()) if prints else None
    try:
        yield
    finally:
        if token is not None:
            release_prints(token)  # its last unfinished line goes to ``lines`` too
        stop_capture(fctx, lines)


class LoggerWatch:
    """The loggers one run taps in a worker process, from its first captured body run
    to its end: tapping them for each body run would reconfigure them every time."""

    __slots__ = ("_lock", "names")

    def __init__(self) -> None:
        self.names: frozenset[str] | None = None
        self._lock = threading.Lock()

    def hold(self, fctx: FlowRunContext) -> None:
        if self.names is not None:
            return
        with self._lock:
            if self.names is None:
                names = run_loggers(fctx)
                watch(names)
                self.names = names

    def close(self) -> None:
        with self._lock:
            if self.names is not None:
                unwatch(self.names)
                self.names = None
