"""A flow that runs on a schedule: every second, three times.

Run: python examples/scheduled_flow.py

``asyncflow run examples/scheduled_flow.py`` runs the module's ``flow`` once, now, as the
command runs any flow; the script runs it on its schedule.
"""

from __future__ import annotations

import asyncio
import datetime

from asyncflow import Flow, context, task
from asyncflow.schedules import IntervalSchedule
from asyncflow.states import State


@task
async def tick() -> str:
    when = context.scheduled_start_time
    print(f"run scheduled for {when:%H:%M:%S.%f}")
    return str(when)


def build(every: float = 1.0, times: int = 3) -> Flow:
    start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=every)
    schedule = IntervalSchedule(
        datetime.timedelta(seconds=every), start_date=start,
        end_date=start + datetime.timedelta(seconds=every * (times - 1)),
    )
    with Flow("ticker", schedule=schedule) as flow:
        tick()
    return flow


async def main(every: float = 1.0, times: int = 3) -> State:
    return await build(every, times).run(run_on_schedule=True)


flow = build()


if __name__ == "__main__":
    print(asyncio.run(main()))
