"""Schedules and running on them."""

from __future__ import annotations

import datetime

import anyio
import pytest

from asyncflow import Flow, FlowDefinitionError, FlowRunError, context, task
from asyncflow.schedules import CronSchedule, IntervalSchedule

UTC = datetime.timezone.utc
START = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def test_interval_schedule_events() -> None:
    s = IntervalSchedule(datetime.timedelta(minutes=10), start_date=START,
                         end_date=START + datetime.timedelta(minutes=25))
    assert s.next(5, after=START - datetime.timedelta(days=1)) == [
        START, START + datetime.timedelta(minutes=10), START + datetime.timedelta(minutes=20)
    ]
    assert s.next(1, after=START + datetime.timedelta(minutes=10)) == [
        START + datetime.timedelta(minutes=20)
    ]


def test_cron_schedule_events() -> None:
    s = CronSchedule("0 6 * * 1-5", start_date=START)
    events = s.next(3, after=START)
    assert [e.isoformat() for e in events] == [
        "2030-01-02T06:00:00+00:00", "2030-01-03T06:00:00+00:00", "2030-01-04T06:00:00+00:00"
    ]


def test_bad_schedules_are_rejected() -> None:
    with pytest.raises(FlowDefinitionError, match="invalid cron string 'every day'"):
        CronSchedule("every day")
    with pytest.raises(FlowDefinitionError, match="positive"):
        IntervalSchedule(datetime.timedelta(0))
    with pytest.raises(FlowDefinitionError, match="no time zone"):
        IntervalSchedule(60, start_date=datetime.datetime(2030, 1, 1))
    with pytest.raises(FlowDefinitionError, match="schedule must be"):
        Flow("f", schedule="*/5 * * * *")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_run_on_schedule_runs_on_each_event_without_overlap() -> None:
    now = datetime.datetime.now(UTC)
    interval = datetime.timedelta(milliseconds=40)
    schedule = IntervalSchedule(interval, start_date=now,
                                end_date=now + datetime.timedelta(milliseconds=400))
    starts: list[datetime.datetime] = []
    running = 0
    peak = 0

    @task
    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        starts.append(context.scheduled_start_time)
        await anyio.sleep(0.06)  # longer than the interval: some events must be skipped
        running -= 1

    with Flow("scheduled", schedule=schedule) as flow:
        work()
    with anyio.fail_after(10):
        state = await flow.run(run_on_schedule=True)
    assert state.is_successful()
    assert peak == 1
    assert len(starts) >= 2
    for start in starts:  # every run started on an exact event: no drift
        assert (start - now) % interval == datetime.timedelta(0)
    assert starts == sorted(set(starts))


@pytest.mark.anyio
async def test_run_on_schedule_without_a_schedule() -> None:
    with pytest.raises(FlowRunError, match="has no schedule"):
        await Flow("f").run(run_on_schedule=True)
