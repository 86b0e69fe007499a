"""Triggers decide, from its upstream states, whether a task runs."""

from __future__ import annotations

from ._core._triggers import (
    all_failed as all_failed,
    all_finished as all_finished,
    all_successful as all_successful,
    always_run as always_run,
    any_failed as any_failed,
    any_successful as any_successful,
    manual_only as manual_only,
    not_all_skipped as not_all_skipped,
    some_failed as some_failed,
    some_successful as some_successful,
)

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]
