"""Run history: every flow run, task run and state transition, kept in a database.

Switch recording on for every run with the ``history.url`` setting (or the environment
variable ``ASYNCFLOW__HISTORY__URL``), or per run::

    await flow.run(history=True)                               # ~/.asyncflow/history.db
    await flow.run(history="sqlite:////var/lib/etl/history.db")
    await flow.run(history="postgresql://etl@db.internal/asyncflow")
    await flow.run(history=False)                              # not this run

Read it back::

    from asyncflow import history

    runs = await history.list_runs(flow="etl", state="Failed", limit=20)
    run = await history.get_run(runs[0].id, transitions=True)
    for task_run in run.task_runs:
        print(task_run.full_name, task_run.state, task_run.duration, task_run.error)
    for line in await history.get_logs(run.run.id, task=0, level="WARNING"):
        print(line.at, line.level, line.message)
    await history.prune(older_than_days=30, keep_last=1000)

Cancel a running run, whichever process runs it (it notices within about a second and
ends ``Cancelled``)::

    await history.cancel_run(run.id)          # or its flow_run_id

Restart a failed or crashed run from here, keeping its finished work::

    await flow.run(restart_from="last")      # or a run's id, or its flow_run_id

Each function opens the database for the call; to make several calls on one connection
use ``async with history.connect() as db:`` and the same methods on ``db``.
``url`` defaults to the ``history.url`` setting, else ``sqlite:///~/.asyncflow/history.db``.
Values of results are never read back: a task run shows its result's location and, for a
:class:`~asyncflow.results.JSONResult`, the JSON text.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from ._core._config import load_config
from ._history._cancel import request_cancel, wait_until_ended
from ._history._errors import (
    GraphChangedError as GraphChangedError,
    HistoryError as HistoryError,
    RestartError as RestartError,
    RunFinishedError as RunFinishedError,
    RunNotFoundError as RunNotFoundError,
)
from ._history._logs import DEFAULT_LIMIT, LogRecord as LogRecord
from ._history._recorder import Recorder as Recorder
from ._history._records import (
    FlowRunDetail as FlowRunDetail,
    FlowRunRecord as FlowRunRecord,
    TaskRunRecord as TaskRunRecord,
    TransitionRecord as TransitionRecord,
)
from ._history._store import (
    DEFAULT_URL as DEFAULT_URL,
    HistoryStore as HistoryStore,
    When,
    store_for,
)

__all__ = [
    "DEFAULT_URL",
    "FlowRunDetail",
    "FlowRunRecord",
    "GraphChangedError",
    "HistoryError",
    "HistoryStore",
    "LogRecord",
    "Recorder",
    "RestartError",
    "RunFinishedError",
    "RunNotFoundError",
    "TaskRunRecord",
    "TransitionRecord",
    "cancel_run",
    "configured_url",
    "connect",
    "get_logs",
    "get_run",
    "get_task_run",
    "list_runs",
    "prune",
]


def configured_url(url: str | None = None) -> str:
    """``url``, else the ``history.url`` setting, else the default SQLite file."""
    if url:
        return url
    return str(load_config().get_path("history.url") or "") or DEFAULT_URL


def connect(url: str | None = None) -> HistoryStore:
    """The history database, to use as ``async with history.connect(url) as db:``.

    Entering connects and creates or migrates the schema; leaving disconnects.
    """
    return store_for(configured_url(url))


async def list_runs(
    *,
    url: str | None = None,
    flow: str | None = None,
    state: str | Sequence[str] | None = None,
    since: When = None,
    until: When = None,
    limit: int = 50,
    offset: int = 0,
) -> list[FlowRunRecord]:
    """Flow runs, newest first: of ``flow``, ending in ``state`` (a name such as
    ``"Failed"``, or several), started in ``[since, until)`` (aware datetimes)."""
    async with connect(url) as db:
        return await db.list_runs(flow=flow, state=state, since=since, until=until,
                                  limit=limit, offset=offset)


async def get_run(
    run: int | str, *, url: str | None = None, transitions: bool = False
) -> FlowRunDetail:
    """A flow run with its task runs, by the history's id (an int, as ``list_runs`` gives)
    or the engine's ``flow_run_id`` (a str). ``transitions=True`` adds each task run's
    timeline. Raises :class:`RunNotFoundError` if there is no such run."""
    async with connect(url) as db:
        return await db.get_run_detail(run, transitions=transitions)


async def get_task_run(
    run: int | str, task: int, map_index: int | None = None, *, url: str | None = None
) -> TaskRunRecord:
    """One task run with its transitions; ``task`` is the position
    :attr:`TaskRunRecord.task` gives, ``map_index`` picks a mapped child."""
    async with connect(url) as db:
        record = await db.get_flow_run(run)
        return await db.get_task_run(record.id, task, map_index)


async def get_logs(
    run: int | str,
    task: int,
    map_index: int | None = None,
    level: str | int | None = None,
    *,
    url: str | None = None,
    after: int = 0,
    limit: int | None = DEFAULT_LIMIT,
) -> list[LogRecord]:
    """What a task run logged (``task`` and ``map_index`` as for :func:`get_task_run`),
    oldest first: the lines at ``level`` (``"WARNING"``, or a number) or above.

    At most ``limit`` lines are returned (None for all of them); for the next page pass
    the last line's ``id`` as ``after``.
    """
    async with connect(url) as db:
        record = await db.get_flow_run(run)
        return await db.get_logs(record.id, task, map_index, level=level, after=after,
                                 limit=limit)


async def cancel_run(
    run: int | str, *, url: str | None = None, wait: float | None = None
) -> FlowRunRecord:
    """Ask for flow run ``run`` (its number, or its ``flow_run_id``) to be cancelled,
    whichever process runs it: ``asyncflow run``, a service, a script or the dashboard.

    The request is recorded on the run's row; the process running the run looks about
    every second and cancels it as if its caller had (running tasks get
    ``CancelledError``, unfinished task runs and the flow end ``Cancelled``, handlers
    run). Returns the run's record: *cancelling* (``record.is_cancelling``) right away,
    or, with ``wait`` seconds, as it is once it has ended or when they are over.

    Raises :class:`RunNotFoundError` if there is no such run, :class:`RunFinishedError`
    if it has already ended or crashed.
    """
    async with connect(url) as db:
        record = await request_cancel(db, run)
        if wait is None:
            return record
        return await wait_until_ended(db, record.id, within=wait)


async def prune(
    *,
    url: str | None = None,
    older_than_days: float | None = None,
    keep_last: int | None = None,
    flow: str | None = None,
) -> int:
    """Delete runs started more than ``older_than_days`` days ago, and finished runs
    beyond the newest ``keep_last`` (of ``flow`` only, if given). Returns how many runs
    were deleted. Runs still being recorded are kept by ``keep_last``."""
    older = None if older_than_days is None else datetime.timedelta(days=older_than_days)
    async with connect(url) as db:
        return await db.prune(older_than=older, keep_last=keep_last, flow=flow)
