"""The storage interface of the run history, and every query, written once for both databases.

A :class:`HistoryStore` is opened from a URL by :func:`store_for`:

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
  ``sqlite:///~/.asyncflow/history.db``: an embedded SQLite file (aiosqlite, WAL mode);
- ``postgresql://user:password@host:5432/dbname``: a shared PostgreSQL database (asyncpg).

Subclasses only say how to connect, run a statement and hold a transaction
(:mod:`._sqlite`, :mod:`._postgres`); the SQL below uses ``?`` placeholders, which the
PostgreSQL store numbers. Writes only ever append transitions: a task run's state is its
latest transition, so recording needs no update of a row per transition.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import itertools
import logging
import operator
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from ._errors import HistoryError, RunNotFoundError
from ._heartbeat import crash_message, process_is_gone
from ._logs import DEFAULT_LIMIT, LogRecord, read_logs
from ._packing import Transition, unpack
from ._records import (
    FlowRunDetail,
    FlowRunRecord,
    TaskRunRecord,
    TransitionRecord,
)
from ._rows import (
    _RUN_COLUMNS,
    Row as Row,
    _run_record,
    _seq,
    _state_now,
    _task_run_record,
    _Timeline,
    _transition_record,
    decode_graph as decode_graph,
    task_names,
    write_statements,
)
from ._run_filters import state_clause
from ._schema import LATEST_VERSION, MAX_ID, MIGRATIONS, Dialect
from ._urls import (
    DEFAULT_URL as DEFAULT_URL,
    display_url as display_url,
    sqlite_path as sqlite_path,
    store_for as store_for,
)

logger = logging.getLogger("asyncflow.history")

When = datetime.datetime | float | None


class Connection(Protocol):
    """A connection inside one transaction."""

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...


def _row_count(name: str, value: int) -> int:
    """``limit`` or ``offset`` as the databases take it: 0 to :data:`MAX_ID` (SQLite would
    read a negative limit as "no limit", PostgreSQL refuses it)."""
    try:
        number = operator.index(value)
    except TypeError:
        number = -1
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_ID}, not {value!r}")
    return number


def _seconds(when: When) -> float | None:
    if when is None or isinstance(when, float | int):
        return when
    if when.tzinfo is None:
        raise ValueError(
            f"{when!r} has no time zone; pass an aware datetime such as "
            "datetime.datetime.now(datetime.timezone.utc)"
        )
    return when.timestamp()


#: How many runs' decoded transitions a store keeps, for pages that read a run often.
_TIMELINE_CACHE = 4


class HistoryStore(ABC):
    """A history database: connect, migrate, record, query and prune."""

    dialect: Dialect

    def __init__(self, url: str) -> None:
        self.url = url
        #: Recorded graphs never change: each run's graph, decoded, and its task names.
        self._graphs: dict[int, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
        self._timelines: dict[int, _Timeline] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {display_url(self.url)}>"

    # ---- what a database store provides ------------------------------------------
    @abstractmethod
    async def connect(self) -> None:
        """Open the connection (or pool); raise HistoryError naming the URL if it fails."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection (or pool); safe to call twice."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """One write transaction: committed on exit, rolled back on an error."""

    @abstractmethod
    def migration(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction that holds the database's migration lock."""

    @abstractmethod
    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """The rows of one statement, run on its own (in a transaction of its own)."""

    async def __aenter__(self) -> HistoryStore:
        await self.connect()
        try:
            await self.migrate()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- schema -------------------------------------------------------------------
    async def migrate(self) -> int:
        """Apply the migrations this database lacks; the schema version it ends at."""
        try:
            current = await self.schema_version()
        except Exception:  # no schema_version table yet
            current = -1
        if current >= 1:  # before migrating it further
            await self._check_layout()
        if current == LATEST_VERSION:
            return current
        async with self.migration() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            rows = await conn.fetch("SELECT version FROM schema_version")
            if not rows:
                await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
                version = 0
            else:
                version = int(rows[0][0])
            if version > LATEST_VERSION:
                raise HistoryError(
                    f"the history database {display_url(self.url)} has schema version "
                    f"{version}, newer than this asyncflow knows ({LATEST_VERSION}); "
                    "upgrade asyncflow-engine, or record to another database"
                )
            for migration in MIGRATIONS:
                if migration.version <= version:
                    continue
                for statement in migration.sql(self.dialect):
                    await conn.execute(statement)
                await conn.execute(
                    "UPDATE schema_version SET version = ?", (migration.version,)
                )
                version = migration.version
        return version

    async def _check_layout(self) -> None:
        """Refuse a file from before the schema was first released (version 1 already,
        but one row per transition), with the fix, rather than fail at every write."""
        try:
            await self.read_small("SELECT 1 FROM transition_batches LIMIT 1")
        except Exception as exc:
            raise HistoryError(
                f"the history database {display_url(self.url)} has an older layout, from "
                f"a development version of asyncflow ({exc}); move it aside, or set "
                "history.url to a new database"
            ) from None

    async def read_small(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """The rows of a query known to be quick (a store may run it without waiting)."""
        return await self.fetch(sql, args)

    async def schema_version(self) -> int:
        """The version of the history's tables in this database (0 before they exist)."""
        rows = await self.read_small("SELECT version FROM schema_version")
        return int(rows[0][0]) if rows else 0

    # ---- recording ----------------------------------------------------------------
    async def create_flow_run(
        self,
        *,
        flow_run_id: str,
        flow_name: str,
        state: str,
        parameters: str,
        started_at: float,
        task_count: int,
        graph: str | None,
        restart_of: int | None = None,
        process: tuple[str, int, float | None] | None = None,
    ) -> int:
        """Insert a flow run; its database id. ``process`` is ``(host, pid, start time)``
        of the process running it, whose first heartbeat is ``started_at``."""
        host, pid, process_started = process if process is not None else (None, None, None)
        rows = await self._write([(
            "INSERT INTO flow_runs (flow_run_id, flow_name, state, parameters, started_at, "
            "updated_at, task_count, graph, restart_of, host, pid, process_started_at, "
            "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (flow_run_id, flow_name, state, parameters, started_at, started_at, task_count,
             graph, restart_of, host, pid, process_started,
             started_at if process is not None else None),
        )])
        return int(rows[0][0])

    async def write_batch(
        self, batches: Sequence[Sequence[Any]], flow_runs: Sequence[Sequence[Any]],
        beats: Sequence[Sequence[Any]] = (),
    ) -> None:
        """Record transitions in one transaction: ``batches`` are rows ``(flow_run,
        first_seq, transition_count, data)`` packed by :func:`._packing.pack`,
        ``flow_runs`` updates ``(state, message, updated_at, id)``, ``beats``
        heartbeats ``(heartbeat_at, id)``."""
        await self._write(write_statements(batches, flow_runs, beats))

    async def finish_flow_run(
        self, run: int, *, state: str, message: str | None, ended_at: float,
        dag_svg: str | None,
    ) -> None:
        """Record that flow run ``run`` ended in ``state``, with its DAG picture if any."""
        await self._write([(
            "UPDATE flow_runs SET state = ?, message = ?, ended_at = ?, updated_at = ?, "
            "dag_svg = COALESCE(?, dag_svg) WHERE id = ?",
            (state, message, ended_at, max(ended_at, time.time()), dag_svg, run),
        )])

    async def set_dag_svg(self, run: int, svg: str) -> None:
        """Store the SVG picture of flow run ``run``'s task graph."""
        await self._write([("UPDATE flow_runs SET dag_svg = ? WHERE id = ?", (svg, run))])

    async def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Row]:
        """Run the statements of a recording in one transaction; the last one's rows."""
        rows: list[Row] = []
        async with self.transaction() as conn:
            for sql, args in statements:
                rows = await conn.fetch(sql, args)
        return rows

    # ---- queries ------------------------------------------------------------------
    async def _run_filters(
        self, flow: str | None, state: str | Sequence[str] | None, since: When, until: When,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if flow:
            clauses.append("flow_name = ?")
            args.append(flow)
        if state:
            states = [state] if isinstance(state, str) else list(state)
            clause, state_args = await state_clause(states, self.read_small)
            clauses.append(clause)
            args.extend(state_args)
        if since is not None:
            clauses.append("started_at >= ?")
            args.append(_seconds(since))
        if until is not None:
            clauses.append("started_at < ?")
            args.append(_seconds(until))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return where, args

    async def list_runs(
        self,
        *,
        flow: str | None = None,
        state: str | Sequence[str] | None = None,
        since: When = None,
        until: When = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[FlowRunRecord]:
        """Flow runs, newest first, that match every filter given."""
        where, args = await self._run_filters(flow, state, since, until)
        rows = await self.fetch(
            f"SELECT {_RUN_COLUMNS} FROM flow_runs{where} "
            "ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
            (*args, _row_count("limit", limit), _row_count("offset", offset)),
        )
        return [_run_record(r) for r in rows]

    async def count_runs(
        self,
        *,
        flow: str | None = None,
        state: str | Sequence[str] | None = None,
        since: When = None,
        until: When = None,
    ) -> int:
        """How many flow runs match the filters (those of ``list_runs``)."""
        where, args = await self._run_filters(flow, state, since, until)
        rows = await self.fetch(f"SELECT COUNT(*) FROM flow_runs{where}", args)
        return int(rows[0][0])

    async def flow_names(self) -> list[str]:
        """The names of the flows with recorded runs, sorted."""
        rows = await self.fetch("SELECT DISTINCT flow_name FROM flow_runs ORDER BY flow_name")
        return [r[0] for r in rows]

    async def get_flow_run(self, run: int | str) -> FlowRunRecord:
        """A flow run by database id, or by the engine's flow run id (its latest record)."""
        if isinstance(run, int):
            rows = []  # an id no database column can hold names no run, and cannot be sent
            if -MAX_ID - 1 <= run <= MAX_ID:
                rows = await self.fetch(
                    f"SELECT {_RUN_COLUMNS} FROM flow_runs WHERE id = ?", (run,)
                )
        else:
            rows = await self.fetch(
                f"SELECT {_RUN_COLUMNS} FROM flow_runs WHERE flow_run_id = ? "
                "ORDER BY id DESC LIMIT 1",
                (run,),
            )
        if not rows:
            raise RunNotFoundError(
                f"no flow run {run!r} in the history at {display_url(self.url)}; "
                "list the recorded runs with asyncflow.history.list_runs()"
            )
        return _run_record(rows[0])

    async def restarts_of(self, run: int) -> list[int]:
        """The ids of the runs that restarted flow run ``run``, oldest first."""
        rows = await self.fetch(
            "SELECT id FROM flow_runs WHERE restart_of = ? ORDER BY id", (run,))
        return [int(r[0]) for r in rows]

    async def last_transition_id(self, run: int) -> int:
        """The number of a flow run's latest recorded transition (0 if it has none yet).

        A live view reads this first, then the run's state: any transition written in
        between is then also among those after this number.
        """
        rows = await self.fetch(
            "SELECT MAX(first_seq + transition_count - 1) FROM transition_batches "
            "WHERE flow_run = ?",
            (run,),
        )
        return int(rows[0][0] or 0)

    async def is_finished(self, run: int) -> bool:
        """Whether a flow run has been recorded to its end, or crashed."""
        rows = await self.fetch("SELECT ended_at FROM flow_runs WHERE id = ?", (run,))
        if not rows:
            return False
        return rows[0][0] is not None or await self._crashed_run(run) is not None

    async def _timeline(self, run: int) -> _Timeline:
        """A flow run's transitions recorded so far, in order, and its task runs.

        Decoded batches are kept for the last few runs read, and a later call fetches
        only the batches written since, so a page of a big run does not decode it again.
        """
        timeline = self._timelines.pop(run, None) or _Timeline()
        self._timelines[run] = timeline  # now the most recently used
        while len(self._timelines) > _TIMELINE_CACHE:
            self._timelines.pop(next(iter(self._timelines)))
        rows = await self.fetch(
            "SELECT first_seq, transition_count, data FROM transition_batches "
            "WHERE flow_run = ? AND first_seq >= ? ORDER BY first_seq",
            (run, timeline.next_seq),
        )
        for first_seq, n, data in rows:
            first_seq, n = int(first_seq), int(n)
            if first_seq != timeline.next_seq:  # only a damaged database has a gap
                logger.warning("history: flow run %s lacks transitions %d to %d",
                               run, timeline.next_seq, first_seq - 1)
            try:
                timeline.extend(unpack(first_seq, n, data))
            except HistoryError as exc:
                logger.warning("history: flow run %s: %s", run, exc)
            timeline.next_seq = first_seq + n
        return timeline

    async def graph(self, run: int) -> tuple[dict[str, Any], str | None]:
        """The task graph recorded with a flow run, and its DAG picture if one was drawn."""
        rows = await self.fetch("SELECT graph, dag_svg FROM flow_runs WHERE id = ?", (run,))
        if not rows:
            return {}, None
        return self._decoded(run, rows[0][0])[0], rows[0][1]

    def _decoded(
        self, run: int, text: str | None
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        found = self._graphs.get(run)
        if found is None:
            graph = decode_graph(text)
            found = (graph, task_names(graph))
            if len(self._graphs) >= 16:
                self._graphs.pop(next(iter(self._graphs)))
            self._graphs[run] = found
        return found

    async def task_names(self, run: int) -> list[tuple[str, str]]:
        """``(slug, name)`` of each task of a flow run, by position."""
        found = self._graphs.get(run)
        if found is None:
            rows = await self.fetch("SELECT graph FROM flow_runs WHERE id = ?", (run,))
            found = self._decoded(run, rows[0][0] if rows else None)
        return found[1]

    async def task_runs(
        self,
        run: int,
        *,
        state: str | None = None,
        task: int | None = None,
        map_index: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[TaskRunRecord]:
        """A flow run's task runs in the flow's order, each with its latest state (the
        unfinished ones of a crashed run read as ``Crashed``)."""
        timeline = await self._timeline(run)
        crashed = await self._crashed_run(run)
        items = timeline.ordered()
        if task is not None:
            one = timeline.summaries.get((task, map_index))
            items = [((task, map_index), one)] if one is not None else []
        if state:
            items = [(key, s) for key, s in items
                     if _state_now(s.last.new_state, crashed) == state]
        if limit is not None:
            items = items[int(offset):int(offset) + int(limit)]
        names = await self.task_names(run)
        records = [_task_run_record(key, s, names) for key, s in items]
        if crashed is not None:
            records = [r if r.is_finished else dataclasses.replace(
                r, state="Crashed", message=crashed) for r in records]
        return records

    async def count_task_runs(self, run: int, *, state: str | None = None) -> int:
        """How many task runs flow run ``run`` has, or how many are in ``state``."""
        counts = await self.state_counts(run)
        return counts.get(state, 0) if state else sum(counts.values())

    async def state_counts(self, run: int) -> dict[str, int]:
        """How many of a flow run's task runs are in each state now."""
        counts: dict[str, int] = {}
        crashed = await self._crashed_run(run)
        for summary in (await self._timeline(run)).summaries.values():
            name = _state_now(summary.last.new_state, crashed)
            counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))

    async def _crashed_run(self, run: int) -> str | None:
        """Why flow run ``run`` crashed (see :mod:`._heartbeat`), or None if it did not."""
        rows = await self.read_small(
            "SELECT ended_at, host, pid, process_started_at, heartbeat_at FROM flow_runs "
            "WHERE id = ?", (run,),
        )
        if not rows or rows[0][0] is not None:
            return None
        _, host, pid, started, beat = rows[0]
        pid = None if pid is None else int(pid)
        if not process_is_gone(host, pid, started, beat):
            return None
        return "The flow run crashed before this task run finished: " + crash_message(host, pid)

    async def get_task_run(
        self, run: int, task: int, map_index: int | None = None
    ) -> TaskRunRecord:
        """One task run with its whole transition timeline."""
        found = await self.task_runs(run, task=task, map_index=map_index)
        if not found:
            which = f"{task}" if map_index is None else f"{task}[{map_index}]"
            raise RunNotFoundError(
                f"flow run {run} has no task run {which} in the history at "
                f"{display_url(self.url)}"
            )
        timeline = await self.transitions(run, task=task, map_index=map_index)
        return dataclasses.replace(found[0], transitions=tuple(timeline))

    async def transitions(
        self,
        run: int,
        *,
        task: int | None = None,
        map_index: int | None = None,
        flow_only: bool = False,
        after: int = 0,
        limit: int | None = None,
    ) -> list[TransitionRecord]:
        """Transitions of a flow run in the order they happened (numbered after ``after``).

        Those of one task run with ``task`` (and ``map_index``), the flow's own with
        ``flow_only``, else all of them.
        """
        recorded = (await self._timeline(run)).transitions
        # Numbered from 1 with no gap, unless a damaged batch was skipped: search, not index.
        found: Iterable[Transition] = recorded[bisect.bisect_right(recorded, after, key=_seq):]
        if task is not None:
            found = (t for t in found if t.task == task and t.map_index == map_index)
        elif flow_only:
            found = (t for t in found if t.task is None)
        if limit is not None:
            found = itertools.islice(found, int(limit))
        return [_transition_record(t) for t in found]

    async def get_run_detail(self, run: int | str, *, transitions: bool = False) -> FlowRunDetail:
        """A flow run with every task run (and, with ``transitions``, each one's timeline)."""
        record = await self.get_flow_run(run)
        task_runs = await self.task_runs(record.id)
        all_transitions = await self.transitions(record.id)
        if transitions:
            timelines: dict[tuple[int, int | None], list[TransitionRecord]] = {}
            for t in all_transitions:
                if t.task is not None:
                    timelines.setdefault((t.task, t.map_index), []).append(t)
            task_runs = [
                dataclasses.replace(
                    r, transitions=tuple(timelines.get((r.task, r.map_index), ()))
                )
                for r in task_runs
            ]
        own = tuple(t for t in all_transitions if t.task is None)
        graph, svg = await self.graph(record.id)
        return FlowRunDetail(
            run=record, task_runs=tuple(task_runs), transitions=own, graph=graph, dag_svg=svg,
        )

    async def get_logs(
        self,
        run: int,
        task: int,
        map_index: int | None = None,
        *,
        level: str | int | None = None,
        after: int = 0,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[LogRecord]:
        """What a task run logged, oldest first (see :func:`._logs.read_logs`)."""
        return await read_logs(self, run, task, map_index, level=level, after=after,
                               limit=limit)

    # ---- pruning ------------------------------------------------------------------
    async def prune(
        self,
        *,
        older_than: datetime.timedelta | None = None,
        keep_last: int | None = None,
        flow: str | None = None,
    ) -> int:
        """Delete runs started more than ``older_than`` ago, and finished runs beyond the
        newest ``keep_last``; only runs of ``flow`` if given. The number of runs deleted."""
        if older_than is None and keep_last is None:
            raise ValueError("prune needs older_than=..., keep_last=... or both")
        if keep_last is not None and keep_last < 0:
            raise ValueError(f"keep_last must be 0 or more, not {keep_last}")
        flow_clause = " AND flow_name = ?" if flow else ""
        flow_args: list[Any] = [flow] if flow else []
        found: list[Row] = []
        if older_than is not None:
            cutoff = time.time() - older_than.total_seconds()
            found += await self.fetch(
                f"SELECT id FROM flow_runs WHERE started_at < ?{flow_clause}",
                (cutoff, *flow_args),
            )
        if keep_last is not None:
            found += await self.fetch(
                f"SELECT id FROM flow_runs WHERE ended_at IS NOT NULL{flow_clause} "
                f"AND id NOT IN (SELECT id FROM flow_runs WHERE ended_at IS NOT NULL"
                f"{flow_clause} ORDER BY started_at DESC, id DESC LIMIT ?)",
                (*flow_args, *flow_args, int(keep_last)),
            )
        doomed = sorted({int(row[0]) for row in found})
        if doomed:
            async with self.transaction() as conn:
                await conn.executemany(
                    "DELETE FROM transition_batches WHERE flow_run = ?", [(pk,) for pk in doomed]
                )
                await conn.executemany(
                    "DELETE FROM task_logs WHERE flow_run = ?", [(pk,) for pk in doomed]
                )
                await conn.executemany(
                    "DELETE FROM flow_runs WHERE id = ?", [(pk,) for pk in doomed]
                )
            for pk in doomed:
                self._timelines.pop(pk, None)
        return len(doomed)
