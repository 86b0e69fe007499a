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

import dataclasses
import datetime
import json
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from .._core._exceptions import ConfigError
from ._errors import HistoryError, RunNotFoundError
from ._records import (
    FlowRunDetail,
    FlowRunRecord,
    TaskRunRecord,
    TransitionRecord,
    to_datetime,
)
from ._schema import LATEST_VERSION, MIGRATIONS, Dialect

#: Where history goes when it is switched on without a URL.
DEFAULT_URL = "sqlite:///~/.asyncflow/history.db"

Row = Sequence[Any]
When = datetime.datetime | float | None


class Connection(Protocol):
    """A connection inside one transaction."""

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def insert(self, table: str, columns: str, flat: Sequence[Any]) -> None:
        """Insert many rows given one after the other in ``flat`` (as many values per row
        as ``columns``, a comma-separated column list, names)."""

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...


def display_url(url: str) -> str:
    """``url`` with its password hidden, fit for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names (three slashes: relative; four: absolute)."""
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    if not rest or rest == ":memory:":
        raise ConfigError(
            f"history URL {url!r} names no file; the history must outlive the process, so "
            "use a file such as sqlite:///~/.asyncflow/history.db"
        )
    return Path(urllib.parse.unquote(rest)).expanduser()


def store_for(url: str) -> HistoryStore:
    """A store for ``url`` (not connected yet)."""
    if not isinstance(url, str):
        raise ConfigError(f"a history URL must be a string, not {type(url).__name__}")
    if url.startswith("sqlite:///"):
        from ._sqlite import SQLiteStore

        return SQLiteStore(url, sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(
        f"history URL {display_url(url)!r} is not supported; use sqlite:///path/history.db "
        "(sqlite:////abs/path.db for an absolute path) or postgresql://user@host/dbname"
    )


def _seconds(when: When) -> float | None:
    if when is None or isinstance(when, float | int):
        return when
    if when.tzinfo is None:
        raise ValueError(
            f"{when!r} has no time zone; pass an aware datetime such as "
            "datetime.datetime.now(datetime.timezone.utc)"
        )
    return when.timestamp()


_RUN_COLUMNS = (
    "id, flow_run_id, flow_name, state, message, parameters, started_at, ended_at, "
    "updated_at, task_count"
)
#: The upper id bound of a run still being recorded.
_NO_END = 2**62
_IN_RUN = "id > ? AND id <= ? AND flow_run = ?"
_SHORT_COLUMNS = "flow_run, task, map_index, at, old_state, new_state, message, run_count"
_FULL_COLUMNS = _SHORT_COLUMNS + ", task_run_id, result_location, result_json, error"
#: Consecutive transitions to insert: ``(full, values of each row one after the other)``.
Segment = tuple[bool, list[Any]]
_TRANSITIONS = (
    "SELECT id, task, map_index, at, old_state, new_state, message, run_count, "
    f"result_location, result_json, error FROM transitions WHERE {_IN_RUN}"
)
#: The latest transition of each task run of one flow run.
_LATEST = (
    f"SELECT MAX(id) FROM transitions WHERE {_IN_RUN} AND task IS NOT NULL "
    "GROUP BY task, map_index"
)
_TASK_RUN_SUMMARY = f"""
SELECT s.task, s.map_index, s.task_run_id, l.new_state, l.message, s.max_run_count, l.at,
       s.started_at, res.result_location, res.result_json, err.error
FROM (SELECT task, map_index, MAX(id) AS last_id, MAX(task_run_id) AS task_run_id,
             MIN(CASE WHEN new_state = 'Running' THEN at END) AS started_at,
             MAX(CASE WHEN result_location IS NOT NULL OR result_json IS NOT NULL
                      THEN id END) AS result_id,
             MAX(CASE WHEN error IS NOT NULL THEN id END) AS error_id,
             MAX(run_count) AS max_run_count
      FROM transitions
      WHERE {_IN_RUN} AND task IS NOT NULL {{task_filter}}
      GROUP BY task, map_index) s
JOIN transitions l ON l.id = s.last_id
LEFT JOIN transitions res ON res.id = s.result_id
LEFT JOIN transitions err ON err.id = s.error_id
{{state_filter}}
ORDER BY s.task, s.map_index
"""


def _run_record(row: Row) -> FlowRunRecord:
    try:
        parameters = json.loads(row[5]) if row[5] else {}
    except ValueError:
        parameters = {}
    return FlowRunRecord(
        id=int(row[0]), flow_run_id=row[1], flow_name=row[2], state=row[3], message=row[4],
        parameters=parameters if isinstance(parameters, dict) else {},
        started_at=to_datetime(row[6]),  # type: ignore[arg-type]
        ended_at=to_datetime(row[7]),
        updated_at=to_datetime(row[8]),  # type: ignore[arg-type]
        task_count=int(row[9]),
    )


def _map_index(value: Any) -> int | None:
    return None if value is None or value < 0 else int(value)


def _transition_record(row: Row) -> TransitionRecord:
    return TransitionRecord(
        id=int(row[0]), task=row[1], map_index=_map_index(row[2]),
        at=to_datetime(row[3]),  # type: ignore[arg-type]
        old_state=row[4], new_state=row[5], message=row[6], run_count=int(row[7]),
        result_location=row[8], result_json=row[9], error=row[10],
    )


def decode_graph(text: str | None) -> dict[str, Any]:
    """A recorded graph as ``{"tasks": [[slug, name, mapped], ...], "edges": [[upstream
    slug, downstream slug, key, mapped], ...]}`` (tasks by position)."""
    try:
        stored = json.loads(text) if text else {}
    except ValueError:
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    slugs = list(stored.get("slugs") or [])
    names = list(stored.get("names") or slugs)
    mapped = set(stored.get("mapped") or ())
    tasks = [[slug, name, i in mapped]
             for i, (slug, name) in enumerate(zip(slugs, names, strict=False))]
    edges = []
    for edge in stored.get("edges") or ():
        try:
            up, down, key, is_mapped = edge
            edges.append([slugs[up], slugs[down], key, bool(is_mapped)])
        except (ValueError, TypeError, IndexError):
            continue
    return {"tasks": tasks, "edges": edges}


def task_names(graph: dict[str, Any]) -> list[tuple[str, str]]:
    """``(slug, name)`` of each task of a recorded graph, by position."""
    return [(str(t[0]), str(t[1])) for t in graph.get("tasks", ())]


def _task_run_record(row: Row, names: list[tuple[str, str]]) -> TaskRunRecord:
    task = int(row[0])
    slug, name = names[task] if 0 <= task < len(names) else (f"task-{task}", f"task {task}")
    return TaskRunRecord(
        task=task, task_name=name, task_slug=slug, map_index=_map_index(row[1]),
        task_run_id=row[2], state=row[3], message=row[4], run_count=int(row[5] or 0),
        updated_at=to_datetime(row[6]),  # type: ignore[arg-type]
        started_at=to_datetime(row[7]), result_location=row[8], result_json=row[9],
        error=row[10],
    )


class HistoryStore(ABC):
    """A history database: connect, migrate, record, query and prune."""

    dialect: Dialect

    def __init__(self, url: str) -> None:
        self.url = url
        self._graphs: dict[int, dict[str, Any]] = {}  # recorded graphs never change

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

    async def schema_version(self) -> int:
        rows = await self.fetch("SELECT version FROM schema_version")
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
    ) -> int:
        """Insert a flow run; its database id."""
        # Every transition of this run will have an id above the largest one now.
        rows = await self.fetch(
            "INSERT INTO flow_runs (flow_run_id, flow_name, state, parameters, started_at, "
            "updated_at, task_count, graph, first_transition) "
            "SELECT ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(id), 0) FROM transitions RETURNING id",
            (flow_run_id, flow_name, state, parameters, started_at, started_at, task_count,
             graph),
        )
        return int(rows[0][0])

    async def write_batch(
        self, segments: Sequence[Segment], flow_runs: Sequence[Sequence[Any]]
    ) -> None:
        """Record one batch of transitions in one transaction, in the order given.

        Each segment is ``(full, values)``: the values of consecutive rows one after the
        other. Short rows (``full`` false) are the common transitions, with no task run
        id, result or error: ``flow_run, task, map_index, at, old_state, new_state,
        message, run_count``. Full rows add ``task_run_id, result_location, result_json,
        error``. ``flow_runs`` are updates ``(state, message, updated_at, id)``.
        """
        async with self.transaction() as conn:
            for full, values in segments:
                if values:
                    await conn.insert(
                        "transitions", _FULL_COLUMNS if full else _SHORT_COLUMNS, values
                    )
            for update in flow_runs:
                await conn.execute(
                    "UPDATE flow_runs SET state = ?, message = ?, updated_at = ? WHERE id = ?",
                    update,
                )

    async def finish_flow_run(
        self, run: int, *, state: str, message: str | None, ended_at: float,
        dag_svg: str | None,
    ) -> None:
        await self.fetch(
            "UPDATE flow_runs SET state = ?, message = ?, ended_at = ?, updated_at = ?, "
            "dag_svg = COALESCE(?, dag_svg), "
            "last_transition = (SELECT COALESCE(MAX(id), 0) FROM transitions) WHERE id = ?",
            (state, message, ended_at, max(ended_at, time.time()), dag_svg, run),
        )

    async def set_dag_svg(self, run: int, svg: str) -> None:
        await self.fetch("UPDATE flow_runs SET dag_svg = ? WHERE id = ?", (svg, run))

    # ---- queries ------------------------------------------------------------------
    @staticmethod
    def _run_filters(
        flow: str | None, state: str | Sequence[str] | None, since: When, until: When,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if flow:
            clauses.append("flow_name = ?")
            args.append(flow)
        if state:
            states = [state] if isinstance(state, str) else list(state)
            clauses.append("(" + " OR ".join("state = ?" for _ in states) + ")")
            args.extend(states)
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
        where, args = self._run_filters(flow, state, since, until)
        rows = await self.fetch(
            f"SELECT {_RUN_COLUMNS} FROM flow_runs{where} "
            "ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
            (*args, int(limit), int(offset)),
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
        where, args = self._run_filters(flow, state, since, until)
        rows = await self.fetch(f"SELECT COUNT(*) FROM flow_runs{where}", args)
        return int(rows[0][0])

    async def flow_names(self) -> list[str]:
        rows = await self.fetch("SELECT DISTINCT flow_name FROM flow_runs ORDER BY flow_name")
        return [r[0] for r in rows]

    async def get_flow_run(self, run: int | str) -> FlowRunRecord:
        """A flow run by database id, or by the engine's flow run id (its latest record)."""
        if isinstance(run, int):
            rows = await self.fetch(f"SELECT {_RUN_COLUMNS} FROM flow_runs WHERE id = ?", (run,))
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

    async def last_transition_id(self, run: int) -> int:
        """The id of a flow run's latest transition (0 if it has none yet).

        A live view reads this first, then the run's state: any transition written in
        between is then also among those after this id.
        """
        first, last = await self._bounds(run)
        rows = await self.fetch(
            f"SELECT MAX(id) FROM transitions WHERE {_IN_RUN}", (first, last, run)
        )
        return int(rows[0][0] or 0)

    async def is_finished(self, run: int) -> bool:
        """Whether a flow run has been recorded to its end."""
        return (await self._bounds(run))[1] != _NO_END

    async def _bounds(self, run: int) -> tuple[int, int]:
        """The id range ``(first, last]`` that holds a flow run's transitions."""
        rows = await self.fetch(
            "SELECT first_transition, last_transition FROM flow_runs WHERE id = ?", (run,)
        )
        if not rows:
            return 0, 0
        first, last = rows[0]
        return int(first), (_NO_END if last is None else int(last))

    async def graph(self, run: int) -> tuple[dict[str, Any], str | None]:
        """The task graph recorded with a flow run, and its DAG picture if one was drawn."""
        rows = await self.fetch("SELECT graph, dag_svg FROM flow_runs WHERE id = ?", (run,))
        if not rows:
            return {}, None
        return self._decode_graph(run, rows[0][0]), rows[0][1]

    def _decode_graph(self, run: int, text: str | None) -> dict[str, Any]:
        graph = self._graphs.get(run)
        if graph is None:
            graph = decode_graph(text)
            if len(self._graphs) >= 16:
                self._graphs.pop(next(iter(self._graphs)))
            self._graphs[run] = graph
        return graph

    async def task_names(self, run: int) -> list[tuple[str, str]]:
        """``(slug, name)`` of each task of a flow run, by position."""
        graph = self._graphs.get(run)
        if graph is None:
            rows = await self.fetch("SELECT graph FROM flow_runs WHERE id = ?", (run,))
            graph = self._decode_graph(run, rows[0][0] if rows else None)
        return task_names(graph)

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
        """A flow run's task runs in the flow's order, each with its latest state."""
        first, last = await self._bounds(run)
        args: list[Any] = [first, last, run]
        task_filter = ""
        if task is not None:
            task_filter = "AND task = ? AND map_index = ?"
            args.extend((task, -1 if map_index is None else map_index))
        state_filter = ""
        if state:
            state_filter = "WHERE l.new_state = ?"
            args.append(state)
        sql = _TASK_RUN_SUMMARY.format(task_filter=task_filter, state_filter=state_filter)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args.extend((int(limit), int(offset)))
        rows = await self.fetch(sql, args)
        names = await self.task_names(run)
        return [_task_run_record(r, names) for r in rows]

    async def count_task_runs(self, run: int, *, state: str | None = None) -> int:
        counts = await self.state_counts(run)
        return counts.get(state, 0) if state else sum(counts.values())

    async def state_counts(self, run: int) -> dict[str, int]:
        """How many of a flow run's task runs are in each state now."""
        first, last = await self._bounds(run)
        rows = await self.fetch(
            f"SELECT new_state, COUNT(*) FROM transitions WHERE id IN ({_LATEST}) "
            "GROUP BY new_state ORDER BY new_state",
            (first, last, run),
        )
        return {r[0]: int(r[1]) for r in rows}

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
        """Transitions of a flow run in the order they happened (ids after ``after``).

        Those of one task run with ``task`` (and ``map_index``), the flow's own with
        ``flow_only``, else all of them.
        """
        first, last = await self._bounds(run)
        sql = _TRANSITIONS
        args: list[Any] = [max(first, after), last, run]
        if task is not None:
            sql += " AND task = ? AND map_index = ?"
            args.extend((task, -1 if map_index is None else map_index))
        elif flow_only:
            sql += " AND task IS NULL"
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        rows = await self.fetch(sql, args)
        return [_transition_record(r) for r in rows]

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
        columns = "id, first_transition, last_transition"
        doomed: dict[int, tuple[int, int]] = {}
        found: list[Row] = []
        if older_than is not None:
            cutoff = time.time() - older_than.total_seconds()
            found += await self.fetch(
                f"SELECT {columns} FROM flow_runs WHERE started_at < ?{flow_clause}",
                (cutoff, *flow_args),
            )
        if keep_last is not None:
            found += await self.fetch(
                f"SELECT {columns} FROM flow_runs WHERE ended_at IS NOT NULL{flow_clause} "
                f"AND id NOT IN (SELECT id FROM flow_runs WHERE ended_at IS NOT NULL"
                f"{flow_clause} ORDER BY started_at DESC, id DESC LIMIT ?)",
                (*flow_args, *flow_args, int(keep_last)),
            )
        for pk, first, last in found:
            doomed[int(pk)] = (int(first), _NO_END if last is None else int(last))
        if doomed:
            async with self.transaction() as conn:
                await conn.executemany(
                    "DELETE FROM transitions WHERE id > ? AND id <= ? AND flow_run = ?",
                    [(first, last, pk) for pk, (first, last) in doomed.items()],
                )
                await conn.executemany(
                    "DELETE FROM flow_runs WHERE id = ?", [(pk,) for pk in doomed]
                )
        return len(doomed)
