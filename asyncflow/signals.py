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
    Signal as Signal,
)

__all__ = ["ENDRUN", "FAIL", "LOOP", "PAUSE", "RETRY", "SKIP", "SUCCESS", "TRIGGERFAIL", "Signal"]
