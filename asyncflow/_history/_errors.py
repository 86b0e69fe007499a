"""Errors of the run history.

::

    AsyncflowError
    └── HistoryError                 the history database cannot be used
        └── RunNotFoundError (also KeyError)   no recorded run has that id
"""

from __future__ import annotations

from .._core._exceptions import AsyncflowError


class HistoryError(AsyncflowError):
    """The history database cannot be reached, read or migrated."""


class RunNotFoundError(HistoryError, KeyError):
    """No recorded flow run (or task run) has the id asked for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
