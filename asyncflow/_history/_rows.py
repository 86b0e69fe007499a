"""History rows in and out: the statements that write a batch of transitions, and the
records (runs, task runs, transitions) decoded from rows and packed transitions.

The store (:mod:`._store`) runs the SQL; this module only shapes what goes in and
what comes out, the same for SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from typing import Any

from ._heartbeat import crash_message, process_is_gone
from ._packing import Transition
from ._records import FlowRunRecord, TaskRunRecord, TransitionRecord, is_final, to_datetime

Row = Sequence[Any]

_RUN_COLUMNS = (
    "id, flow_run_id, flow_name, state, message, parameters, started_at, ended_at, "
    "updated_at, task_count, restart_of, host, pid, process_started_at, heartbeat_at, "
    "cancel_requested_at"
)
#: Batches per INSERT statement (SQLite allows 32766 bound values in one).
_ROWS_PER_INSERT = 1000


class _Timeline:
    """A flow run's transitions read so far, and what they add up to for each task run;
    later reads fetch and add only newer batches."""

    __slots__ = ("_ordered", "next_seq", "summaries", "transitions")

    def __init__(self) -> None:
        self.transitions: list[Transition] = []
        self.next_seq = 1
        self.summaries: dict[tuple[int, int | None], _TaskRunSummary] = {}
        self._ordered: list[tuple[tuple[int, int | None], _TaskRunSummary]] | None = None

    def extend(self, transitions: list[Transition]) -> None:
        self.transitions.extend(transitions)
        summaries = self.summaries
        for t in transitions:
            task = t.task
            if task is None:  # the flow's own
                continue
            key = (task, t.map_index)
            summary = summaries.get(key)
            if summary is None:
                summary = summaries[key] = _TaskRunSummary(t)
                self._ordered = None
            summary.add(t)

    def ordered(self) -> list[tuple[tuple[int, int | None], _TaskRunSummary]]:
        """The task runs in the flow's order (sorted again only when new ones appear)."""
        if self._ordered is None:
            self._ordered = sorted(self.summaries.items(), key=lambda item: _order(item[0]))
        return self._ordered


class _TaskRunSummary:
    """What a task run's transitions add up to (see ``HistoryStore.task_runs``)."""

    __slots__ = ("error", "last", "result", "run_count", "started_at", "task_run_id")

    def __init__(self, first: Transition) -> None:
        self.last = first
        self.task_run_id: str | None = None
        self.started_at: float | None = None
        self.result: Transition | None = None
        self.error: str | None = None
        self.run_count = 0

    def add(self, t: Transition) -> None:
        self.last = t
        if t.task_run_id is not None:
            self.task_run_id = t.task_run_id
        if self.started_at is None and t.new_state == "Running":
            self.started_at = t.at
        if t.result_location is not None or t.result_json is not None:
            self.result = t
        if t.error is not None:
            self.error = t.error
        if t.run_count > self.run_count:
            self.run_count = t.run_count


def chunked_inserts(head: str, rows: Sequence[Sequence[Any]],
                    per_statement: int) -> list[tuple[str, Sequence[Any]]]:
    """``INSERT`` statements (``head`` names the table and columns) adding ``rows``,
    ``per_statement`` rows each."""
    statements: list[tuple[str, Sequence[Any]]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        marks = "(" + ", ".join(["?"] * len(chunk[0])) + ")"
        statements.append((f"{head} VALUES " + ", ".join([marks] * len(chunk)),
                           [value for row in chunk for value in row]))
    return statements


def write_statements(
    batches: Sequence[Sequence[Any]], flow_runs: Sequence[Sequence[Any]],
    beats: Sequence[Sequence[Any]] = (),
) -> list[tuple[str, Sequence[Any]]]:
    """The statements that record packed batches, flow run updates and heartbeats (see
    ``HistoryStore.write_batch``)."""
    statements = chunked_inserts(
        "INSERT INTO transition_batches (flow_run, first_seq, transition_count, data)",
        batches, _ROWS_PER_INSERT)
    statements.extend(
        ("UPDATE flow_runs SET state = ?, message = ?, updated_at = ? WHERE id = ?", update)
        for update in flow_runs
    )
    statements.extend(
        ("UPDATE flow_runs SET heartbeat_at = ? WHERE id = ?", beat) for beat in beats
    )
    return statements


def _run_record(row: Row) -> FlowRunRecord:
    try:
        parameters = json.loads(row[5]) if row[5] else {}
    except ValueError:
        parameters = {}
    state, message = row[3], row[4]
    host, pid = row[11], (None if row[12] is None else int(row[12]))
    if row[7] is None and process_is_gone(host, pid, row[13], row[14]):
        state, message = "Crashed", crash_message(host, pid)
    return FlowRunRecord(
        id=int(row[0]), flow_run_id=row[1], flow_name=row[2], state=state, message=message,
        parameters=parameters if isinstance(parameters, dict) else {},
        started_at=to_datetime(row[6]),  # type: ignore[arg-type]
        ended_at=to_datetime(row[7]),
        updated_at=to_datetime(row[8]),  # type: ignore[arg-type]
        task_count=int(row[9]),
        restart_of=None if row[10] is None else int(row[10]),
        host=host, pid=pid,
        heartbeat_at=to_datetime(row[14]),
        cancel_requested_at=to_datetime(row[15]),
    )


def _transition_record(t: Transition) -> TransitionRecord:
    return TransitionRecord(
        id=t.seq, task=t.task, map_index=t.map_index,
        at=to_datetime(t.at),  # type: ignore[arg-type]
        old_state=t.old_state, new_state=t.new_state, message=t.message,
        run_count=int(t.run_count), result_location=t.result_location,
        result_json=t.result_json, error=t.error,
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


def _task_run_record(
    key: tuple[int, int | None], summary: _TaskRunSummary, names: list[tuple[str, str]]
) -> TaskRunRecord:
    task, map_index = key
    slug, name = names[task] if 0 <= task < len(names) else (f"task-{task}", f"task {task}")
    last, result = summary.last, summary.result
    return TaskRunRecord(
        task=task, task_name=name, task_slug=slug, map_index=map_index,
        task_run_id=summary.task_run_id, state=last.new_state, message=last.message,
        run_count=summary.run_count,
        updated_at=to_datetime(last.at),  # type: ignore[arg-type]
        started_at=to_datetime(summary.started_at),
        result_location=result.result_location if result is not None else None,
        result_json=result.result_json if result is not None else None,
        error=summary.error,
    )


_seq = operator.attrgetter("seq")


def _state_now(name: str, crashed: str | None) -> str:
    """A task run's state: ``name``, or Crashed if its run crashed before it finished."""
    return "Crashed" if crashed is not None and not is_final(name) else name


def _order(key: tuple[int, int | None]) -> tuple[int, int]:
    return key[0], -1 if key[1] is None else key[1]
