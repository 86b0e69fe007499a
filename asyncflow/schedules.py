"""Schedules for ``flow.run(run_on_schedule=True)``."""

from __future__ import annotations

from ._core._schedules import (
    CronSchedule as CronSchedule,
    IntervalSchedule as IntervalSchedule,
    Schedule as Schedule,
)

__all__ = ["CronSchedule", "IntervalSchedule", "Schedule"]
