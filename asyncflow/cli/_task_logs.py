"""Task run logs in the plain log: what each task run logs, as lines among the events.

::

    [  0.01s] fetch[3]: INFO fetching page 3
    [  0.02s] fetch[3]: WARNING the server is slow
              Traceback (most recent call last): ...

A :class:`TaskLogLines` is passed to ``flow.run(observers=[...])`` next to the tracker;
when the run starts it asks for the run's task logs (see
:mod:`asyncflow._core._log_capture`), at INFO and above, and writes each line through
the :class:`~._plain_log.PlainLog`, also from a sync task's worker thread.
"""

from __future__ import annotations

import logging
from typing import Any

from .._core._context import TaskRunContext, current_flow_run
from .._core._log_capture import start_capture, stop_capture
from .._core._states import State
from ._plain_log import PlainLog
from ._tracking import RunTracker


class TaskLogLines:
    """A run observer that writes the run's task logs to a plain log."""

    def __init__(self, log: PlainLog, tracker: RunTracker) -> None:
        self.log = log
        self.tracker = tracker
        self._fctx: Any = None

    def __call__(self, obj: Any, old: State, new: State) -> None:
        return None  # the tracker reports transitions

    def _line(self, tctx: TaskRunContext, level: int, at: float, text: str) -> None:
        task = tctx.task
        who = task.slug or task.name
        if tctx.map_index is not None:
            who = f"{who}[{tctx.map_index}]"
        self.log.write_line(self.tracker.elapsed,
                            f"{who}: {logging.getLevelName(level)} {text}")

    async def open(self) -> None:
        self._fctx = current_flow_run()
        if self._fctx is not None:
            start_capture(self._fctx, self._line)

    async def close(self) -> None:
        if self._fctx is not None:
            stop_capture(self._fctx, self._line)
            self._fctx = None
