"""Schedules: when a flow runs with ``flow.run(run_on_schedule=True)``."""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod

from ._exceptions import FlowDefinitionError, MissingExtraError


def _utc(value: datetime.datetime | None, name: str) -> datetime.datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        raise FlowDefinitionError(f"{name} must be a datetime.datetime, got {value!r}")
    if value.tzinfo is None:
        raise FlowDefinitionError(
            f"{name} {value.isoformat()} has no time zone; pass an aware datetime, e.g. "
            "datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)"
        )
    return value.astimezone(datetime.timezone.utc)


class Schedule(ABC):
    """When runs happen: ``next(n)`` gives the next ``n`` event times (aware, UTC)."""

    def __init__(self, start_date: datetime.datetime | None = None,
                 end_date: datetime.datetime | None = None) -> None:
        self.start_date = _utc(start_date, "start_date")
        self.end_date = _utc(end_date, "end_date")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise FlowDefinitionError("end_date is before start_date")

    @abstractmethod
    def _events_after(self, after: datetime.datetime, n: int) -> list[datetime.datetime]:
        """The next ``n`` events strictly after ``after``, ignoring end_date."""

    def next(self, n: int, after: datetime.datetime | None = None) -> list[datetime.datetime]:
        """The next ``n`` events after ``after`` (default: now), within the date bounds."""
        if after is None:
            after = datetime.datetime.now(datetime.timezone.utc)
        after = _utc(after, "after")
        assert after is not None
        if self.start_date is not None and after < self.start_date:
            after = self.start_date - datetime.timedelta(microseconds=1)
        events = self._events_after(after, n)
        if self.end_date is not None:
            events = [e for e in events if e <= self.end_date]
        return events


class IntervalSchedule(Schedule):
    """An event every ``interval``, counted from ``start_date`` (default: when it was made)."""

    def __init__(self, interval: datetime.timedelta | float,
                 start_date: datetime.datetime | None = None,
                 end_date: datetime.datetime | None = None) -> None:
        if isinstance(interval, (int, float)) and not isinstance(interval, bool):
            interval = datetime.timedelta(seconds=interval)
        if not isinstance(interval, datetime.timedelta) or interval.total_seconds() <= 0:
            raise FlowDefinitionError(
                f"interval must be a positive datetime.timedelta (or seconds), got {interval!r}"
            )
        super().__init__(start_date, end_date)
        self.interval = interval
        if self.start_date is None:
            self.start_date = datetime.datetime.now(datetime.timezone.utc)

    def _events_after(self, after: datetime.datetime, n: int) -> list[datetime.datetime]:
        assert self.start_date is not None
        elapsed = after - self.start_date
        k = max(0, int(elapsed // self.interval) + 1) if elapsed >= datetime.timedelta(0) else 0
        first = self.start_date + k * self.interval
        while first <= after:
            first += self.interval
        return [first + i * self.interval for i in range(n)]

    def __repr__(self) -> str:
        return f"IntervalSchedule(interval={self.interval!r})"


class CronSchedule(Schedule):
    """Events on a cron expression (five fields, e.g. ``"*/15 * * * *"``), in UTC."""

    def __init__(self, cron: str, start_date: datetime.datetime | None = None,
                 end_date: datetime.datetime | None = None) -> None:
        try:
            from cronsim import CronSim, CronSimError
        except ImportError:
            raise MissingExtraError("CronSchedule", "cron", "cronsim") from None
        try:
            CronSim(cron, datetime.datetime.now(datetime.timezone.utc))
        except (CronSimError, TypeError, AttributeError) as exc:
            raise FlowDefinitionError(
                f"invalid cron string {cron!r} ({exc}): it needs five fields "
                "(minute hour day-of-month month day-of-week), e.g. '0 6 * * 1-5'"
            ) from None
        super().__init__(start_date, end_date)
        self.cron = cron

    def _events_after(self, after: datetime.datetime, n: int) -> list[datetime.datetime]:
        from cronsim import CronSim

        it = CronSim(self.cron, after)
        return [next(it) for _ in range(n)]

    def __repr__(self) -> str:
        return f"CronSchedule({self.cron!r})"
