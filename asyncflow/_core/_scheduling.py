"""Running a flow on its schedule, without drift and without overlapping runs."""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

import anyio

from ._exceptions import FlowRunError
from ._run_cancel import run_cancellable
from ._schedules import Schedule

if TYPE_CHECKING:
    from ._flow_runner import FlowRunner
    from ._states import State

logger = logging.getLogger("asyncflow.schedules")


async def run_scheduled(runner: FlowRunner) -> State:
    """Run at every event of the flow's schedule until it ends (or the caller cancels).

    Event times are absolute, so runs do not drift; an event that passes while a run is
    still going is skipped (runs never overlap). Returns the last run's state.
    """
    from ._flow_runner import FlowRunner

    flow = runner.flow
    schedule = flow.schedule
    if not isinstance(schedule, Schedule):
        raise FlowRunError(
            f"flow {flow.name!r} has no schedule; create it with "
            "Flow(..., schedule=IntervalSchedule(...)) or CronSchedule(...)"
        )
    last: State | None = None
    after: datetime.datetime | None = None
    while True:
        now = datetime.datetime.now(datetime.timezone.utc)
        upcoming = schedule.next(1, after=max(after, now) if after else now)
        if not upcoming:
            break
        event = upcoming[0]
        await anyio.sleep(max((event - now).total_seconds(), 0.0))
        after = event
        run = FlowRunner(flow, **runner.options)
        run.user_context.setdefault("scheduled_start_time", event)
        last = await run_cancellable(run)
        logger.info("scheduled run of %s at %s ended %s", flow.name, event.isoformat(), last)
    if last is None:
        raise FlowRunError(f"the schedule of flow {flow.name!r} has no events left")
    return last
