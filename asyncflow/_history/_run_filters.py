"""The WHERE clause of run listings, with ``Crashed`` told apart from ``Running`` in SQL.

A crashed run has no row state of its own: its row still says ``Running`` (or whatever
it was in when its process died), and it reads as ``Crashed`` because its process is gone
(see :mod:`._heartbeat`). To filter and count such runs in the database, so that paging
and totals are right, the clause spells that reading out:

- a run of another host is gone when its last beat is older than
  :data:`~._heartbeat.MISSED_BEATS` intervals: a comparison with a cut-off time;
- a run of this host is gone when its process is: the few ``(pid, start time)`` pairs of
  this host's unfinished runs are read first and checked against the system, and the
  clause names the pairs that are gone.

A filter on ``Crashed`` keeps the crashed runs; a filter on any other state keeps the rows
in that state that have not crashed (a crashed ``Running`` row is not a running run).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from . import _heartbeat
from ._heartbeat import host_name, pid_alive, process_is_gone

CRASHED = "Crashed"

Fetch = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]


async def crashed_clause(fetch: Fetch) -> tuple[str, list[Any]]:
    """A condition true exactly for the rows of runs that read as ``Crashed``, with its
    arguments; ``fetch`` runs a small query (this host's unfinished processes)."""
    me = host_name()
    rows = await fetch(
        "SELECT DISTINCT pid, process_started_at FROM flow_runs "
        "WHERE ended_at IS NULL AND host = ? AND pid IS NOT NULL", (me,),
    )
    dead: list[int] = []  # every unfinished run of these pids crashed
    reused: list[tuple[int, float]] = []  # the pid lives on in another process
    for pid, started in rows:
        pid = int(pid)
        if not process_is_gone(me, pid, started, None):
            continue
        if pid_alive(pid):
            reused.append((pid, started))
        else:
            dead.append(pid)
    here: list[str] = []
    args: list[Any] = []
    if dead:
        here.append("pid IN (" + ", ".join("?" * len(dead)) + ")")
        args.extend(dead)
    for pid, started in reused:
        here.append("(pid = ? AND process_started_at = ?)")
        args.extend((pid, started))
    cutoff = time.time() - _heartbeat.MISSED_BEATS * _heartbeat.HEARTBEAT_INTERVAL
    condition = (
        "ended_at IS NULL AND host IS NOT NULL AND ("
        "(host <> ? AND heartbeat_at IS NOT NULL AND heartbeat_at < ?)"
        f" OR (host = ? AND ({' OR '.join(here) or '1 = 0'})))"
    )
    # CASE turns an unknown (a NULL column) into "not crashed", so that NOT works too.
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)", [me, cutoff, me, *args]


async def state_clause(states: Sequence[str], fetch: Fetch) -> tuple[str, list[Any]]:
    """The condition of a filter on ``states`` (state names, ``Crashed`` among them or
    not), as runs read: crashed runs are ``Crashed`` and in no other state."""
    crashed, crashed_args = await crashed_clause(fetch)
    parts: list[str] = []
    args: list[Any] = []
    others = [s for s in dict.fromkeys(states) if s != CRASHED]
    if others:
        marks = ", ".join("?" * len(others))
        parts.append(f"(state IN ({marks}) AND {crashed} = 0)")
        args.extend(others)
        args.extend(crashed_args)
    if CRASHED in states:
        parts.append(f"{crashed} = 1")
        args.extend(crashed_args)
    return "(" + " OR ".join(parts) + ")", args
