"""Signals a task raises to end its run in a chosen state."""

from __future__ import annotations

from ._core._signals import (
    ENDRUN as ENDRUN,
    FAIL as FAIL,
    LOOP as LOOP,
    PAUSE as PAUSE,
    RETRY as RETRY,
    SKIP as SKIP,
    SUCCESS as SUCCESS,
    TRIGGERFAIL as TRIGGERFAIL,
    VALIDATIONFAIL as VALIDATIONFAIL,
    Signal as Signal,
    signal_from_state as signal_from_state,
)

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "Signal",
    "signal_from_state",
]
