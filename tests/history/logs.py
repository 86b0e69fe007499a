"""Reading back what the task runs of a recorded run logged."""

from __future__ import annotations

from asyncflow import history
from asyncflow.history import LogRecord


async def logs_by_task_run(url: str) -> dict[str, list[LogRecord]]:
    """The lines of each task run of the latest run in ``url``, by the task run's full
    name (``"fetch"``, ``"fetch[2]"``)."""
    run = (await history.list_runs(url=url, limit=1))[0]
    detail = await history.get_run(run.id, url=url)
    return {tr.full_name: await history.get_logs(run.id, tr.task, tr.map_index, url=url)
            for tr in detail.task_runs}


def levels_and_messages(lines: list[LogRecord]) -> list[tuple[str, str]]:
    return [(line.level, line.message) for line in lines]
