"""The states a task run or a flow run goes through (see :mod:`asyncflow._core._states`)."""

from __future__ import annotations

from ._core._state import State as State
from ._core._states import (
    Cached as Cached,
    Cancelled as Cancelled,
    Crashed as Crashed,
    Failed as Failed,
    Finished as Finished,
    Looped as Looped,
    Mapped as Mapped,
    Paused as Paused,
    Pending as Pending,
    Resume as Resume,
    Retrying as Retrying,
    Running as Running,
    Scheduled as Scheduled,
    Skipped as Skipped,
    Success as Success,
    TimedOut as TimedOut,
    TriggerFailed as TriggerFailed,
    ValidationFailed as ValidationFailed,
)

__all__ = [
    "Cached",
    "Cancelled",
    "Crashed",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Paused",
    "Pending",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Skipped",
    "State",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
]
