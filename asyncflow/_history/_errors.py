"""Errors of the run history.

::

    AsyncflowError
    ├── HistoryError                 the history database cannot be used
    │   ├── RunNotFoundError (also KeyError)   no recorded run has that id
    │   └── RunFinishedError         a run asked to cancel has already ended
    └── RestartError                 a recorded run cannot be restarted (see its message)
        └── GraphChangedError        the flow's tasks or edges changed since that run
"""

from __future__ import annotations

from .._core._exceptions import AsyncflowError


class HistoryError(AsyncflowError):
    """The history database cannot be reached, read or migrated."""


class RunNotFoundError(HistoryError, KeyError):
    """No recorded flow run (or task run) has the id asked for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class RunFinishedError(HistoryError):
    """A run that has already ended (or crashed) was asked to be cancelled."""


class RestartError(AsyncflowError):
    """``flow.run(restart_from=...)`` cannot restart that run: the message says why
    (another flow's run, still running, nothing recorded to restart from...) and what
    to do. Raised before any task runs."""


class GraphChangedError(RestartError):
    """The flow's graph (its task slugs and edges) is not the one the run recorded."""

    def __init__(self, message: str, *, added: list[str], removed: list[str],
                 rewired: list[str]) -> None:
        super().__init__(message)
        self.added = added
        self.removed = removed
        self.rewired = rewired
