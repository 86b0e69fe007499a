"""Cancelling a run through the history, whichever process runs it.

A cancel request is a time in the run's ``cancel_requested_at`` column, written by
:func:`request_cancel` (what ``asyncflow.history.cancel_run``, ``asyncflow cancel`` and
the dashboard's Cancel do). The process running the flow notices it: its recorder's
writer looks every :data:`CANCEL_CHECK_INTERVAL` seconds, in one query by primary key
for all the runs it records, and cancels each run asked for through the run's
:class:`~asyncflow._core._run_cancel.RunCancel`. The run then ends ``Cancelled`` as if its
caller had cancelled it, and its end is recorded as usual. Until then it reads as
*cancelling* (``FlowRunRecord.is_cancelling``).

A run that has ended, or crashed (its process is gone), cannot be asked:
:class:`~._errors.RunFinishedError` says so.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import anyio

from ._errors import RunFinishedError
from ._records import FlowRunRecord, to_datetime
from ._store import HistoryStore, display_url

if TYPE_CHECKING:
    from .._core._run_cancel import RunCancel

logger = logging.getLogger("asyncflow.history")

#: Seconds between two looks for cancel requests by a recording process.
CANCEL_CHECK_INTERVAL = 1.0
#: The final message of a run cancelled through the history.
CANCELLED_MESSAGE = ("Flow run was cancelled on request (asyncflow cancel, the dashboard's "
                     "Cancel or asyncflow.history.cancel_run).")
#: Run ids per query (SQLite binds at most 32766 values in one statement).
_IDS_PER_QUERY = 500


def _finished(record: FlowRunRecord, where: str) -> RunFinishedError:
    if record.is_crashed:
        return RunFinishedError(
            f"flow run {record.id} of {record.flow_name!r} in the history at {where} "
            f"crashed (its process, pid {record.pid} on {record.host}, is gone): nothing "
            "is running to cancel; restart it with `asyncflow run FLOW_FILE --restart "
            f"{record.id}` if its work is still wanted"
        )
    return RunFinishedError(
        f"flow run {record.id} of {record.flow_name!r} in the history at {where} has "
        f"already ended ({record.state}): there is nothing to cancel"
    )


async def request_cancel(store: HistoryStore, run: int | str) -> FlowRunRecord:
    """Ask for flow run ``run`` (its number or ``flow_run_id``) to be cancelled; its
    record, now cancelling. Asking again keeps the first request's time."""
    record = await store.get_flow_run(run)
    where = display_url(store.url)
    if record.is_finished:
        raise _finished(record, where)
    rows = await store._write([(
        "UPDATE flow_runs SET cancel_requested_at = COALESCE(cancel_requested_at, ?) "
        "WHERE id = ? AND ended_at IS NULL RETURNING cancel_requested_at",
        (time.time(), record.id),
    )])
    if not rows:  # it ended in between
        raise _finished(await store.get_flow_run(record.id), where)
    return dataclasses.replace(record, cancel_requested_at=to_datetime(float(rows[0][0])))


async def cancel_requests(store: HistoryStore, runs: Sequence[int]) -> list[int]:
    """Which of the flow runs ``runs`` (database ids) were asked to cancel."""
    found: list[int] = []
    for start in range(0, len(runs), _IDS_PER_QUERY):
        chunk = runs[start:start + _IDS_PER_QUERY]
        marks = ", ".join(["?"] * len(chunk))
        rows = await store.read_small(
            f"SELECT id FROM flow_runs WHERE id IN ({marks}) "
            "AND cancel_requested_at IS NOT NULL", chunk)
        found += [int(row[0]) for row in rows]
    return found


async def cancel_asked_runs(store: HistoryStore, runs: Mapping[int, RunCancel]) -> None:
    """Cancel those of ``runs`` (database id: its handle) that were asked to cancel.

    Called by a recorder's writer; a failure to look is logged, and the next look retries.
    """
    waiting = [pk for pk, handle in runs.items() if not handle.requested]
    if not waiting:
        return
    try:
        asked = await cancel_requests(store, waiting)
    except Exception as exc:
        logger.warning("history: could not look for cancel requests in %s: %s",
                       display_url(store.url), exc)
        return
    for pk in asked:
        logger.info("history: cancelling flow run %s on request", pk)
        runs[pk].cancel(CANCELLED_MESSAGE)


async def wait_until_ended(
    store: HistoryStore, run: int, *, within: float, interval: float = 0.2
) -> FlowRunRecord:
    """Flow run ``run``'s record once it has ended, or as it is after ``within`` seconds."""
    record = await store.get_flow_run(run)
    with anyio.move_on_after(within):
        while not record.is_finished:
            await anyio.sleep(interval)
            record = await store.get_flow_run(run)
    return record
