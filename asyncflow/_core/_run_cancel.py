"""Cancelling a flow run from outside the task that runs it.

``flow.run`` runs each flow run inside the cancel scope of a :class:`RunCancel` and makes
that the run's current one (a :mod:`contextvars` value, so tasks and nested runs see
their own). Something the run opened, such as the history recorder, takes it with
:func:`current_run_cancel` and may later call :meth:`RunCancel.cancel` from another task
of the same event loop: the engine then cancels the run exactly as when its caller is
cancelled (running tasks get ``CancelledError``, unfinished task runs end ``Cancelled``,
state handlers run, the flow ends ``Cancelled``), and ``flow.run`` returns the
``Cancelled`` state instead of raising, since its caller asked for nothing.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio

from ._states import Cancelled, State

if TYPE_CHECKING:
    from ._flow_runner import FlowRunner

_current: ContextVar[RunCancel | None] = ContextVar("asyncflow_run_cancel", default=None)


class RunCancel:
    """A handle that cancels one flow run; ``reason`` becomes its final state's message."""

    __slots__ = ("_scope", "reason")

    def __init__(self) -> None:
        self._scope = anyio.CancelScope()
        self.reason: str | None = None

    @property
    def requested(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self.reason is not None

    def cancel(self, reason: str) -> None:
        """Cancel the run (on its event loop); the first reason given is kept."""
        if self.reason is None:
            self.reason = reason
        self._scope.cancel()


def current_run_cancel() -> RunCancel | None:
    """The handle of the flow run being run here, if any."""
    return _current.get()


async def run_cancellable(runner: FlowRunner) -> State:
    """``runner.run()``, cancellable through the :class:`RunCancel` it sees as current."""
    handle = RunCancel()
    token = _current.set(handle)
    try:
        with handle._scope:
            return await runner.run()
    finally:
        _current.reset(token)
    # Only reached when the scope caught the run's cancellation: the engine has already
    # moved the run and its unfinished task runs to Cancelled.
    return Cancelled(handle.reason or "Flow run was cancelled.", result=_task_states(runner))


def _task_states(runner: FlowRunner) -> dict[Any, State]:
    try:
        return runner._task_results()
    except AttributeError:  # cancelled before the run had set up its tasks
        return {}
