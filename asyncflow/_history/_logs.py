"""Task run logs in the history: captured while a run is recorded, written in batches.

While the recorder records a flow run, a :class:`LogBook` receives what its task runs log
(see :mod:`asyncflow._core._log_capture`): the call, made in the task run's thread, only
appends the record to a queue. The recorder's writer drains the queue with its
transitions (every ``flush_interval``, and before ``flow.run`` returns), one INSERT per
:data:`ROWS_PER_INSERT` lines, in one transaction per write, into the ``task_logs``
table: a row per line with the task's position, the map index (-1 for a task run that
is not a mapped child), the attempt, the time, the level number and the message.

Memory stays bounded whatever a run logs: at most :data:`MAX_PENDING` lines wait to be
written (a line beyond that is counted, and the count written as a warning of the task
run once there is room), a message keeps its first :data:`MAX_MESSAGE_CHARS`
characters, and reads are paged (:func:`read_logs`).

Before a line is stored, every secret the run knows is replaced by ``**********``: the
run's context secrets (``flow.run(context={"secrets": ...})`` and the configuration's
``[context.secrets]``), the ``ASYNCFLOW__CONTEXT__SECRETS__*`` variables, and the secret
texts (webhook URLs, tokens) of the flow's and its tasks' notifiers.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.parse
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._core._config import ENV_PREFIX
from .._core._log_capture import start_capture, stop_capture
from .._secrets import SecretStr, redact
from ._records import to_datetime
from ._rows import chunked_inserts
from ._schema import MAX_ID

if TYPE_CHECKING:
    import datetime

    from .._core._context import FlowRunContext, TaskRunContext
    from .._core._task import Task
    from ._store import HistoryStore

logger = logging.getLogger("asyncflow.history")

#: Lines captured but not yet written, for all the runs of one recorder.
MAX_PENDING = 100_000
MAX_MESSAGE_CHARS = 10_000
ROWS_PER_INSERT = 1000
#: Lines a read returns when it is not told how many.
DEFAULT_LIMIT = 1000
_SECRETS_ENV = f"{ENV_PREFIX}CONTEXT__SECRETS__"


@dataclass(frozen=True)
class LogRecord:
    """One line a task run logged, as the history keeps it."""

    #: Increases with every line recorded: pass the last one seen as ``after=`` to page.
    id: int
    task: int
    map_index: int | None
    #: The attempt (1 for the first run, 2 after one retry, ...).
    run_count: int
    at: datetime.datetime
    level: str
    levelno: int
    message: str


def level_number(level: str | int | None) -> int:
    """A level given by name (``"warning"``) or number as its number (0 for None)."""
    if level is None:
        return 0
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str):
        found = logging.getLevelName(level.strip().upper())
        if isinstance(found, int):
            return found
    raise ValueError(
        f"level must be a logging level such as 'INFO' or 'WARNING' (or its number), "
        f"not {level!r}"
    )


def _bounded(text: str) -> str:
    if len(text) > MAX_MESSAGE_CHARS:
        return text[:MAX_MESSAGE_CHARS] + f" ... ({len(text) - MAX_MESSAGE_CHARS} more characters)"
    return text


# ---- which texts are secret ---------------------------------------------------------------
def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        yield value
        if "://" in value:  # a URL: its path and password are secrets of their own too
            try:
                parts = urllib.parse.urlsplit(value)
            except ValueError:
                return
            if parts.password:
                yield parts.password
            if len(parts.path) > 1:
                yield parts.path + (f"?{parts.query}" if parts.query else "")
                yield parts.path
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def _handler_secrets(handlers: Iterable[Any]) -> Iterable[str]:
    for handler in handlers:
        for value in getattr(handler, "__dict__", {}).values():
            if isinstance(value, SecretStr):
                yield from _texts(value)
            elif isinstance(value, Mapping):
                yield from _texts([v for v in value.values() if isinstance(v, SecretStr)])


def run_secrets(fctx: FlowRunContext, tasks: Iterable[Task[Any]]) -> tuple[str, ...]:
    """Every secret text the run knows (see the module's doc), longest first."""
    found: set[str] = set(_texts(fctx.values.get("secrets") or {}))
    found.update(v for k, v in os.environ.items() if k.startswith(_SECRETS_ENV))
    found.update(_handler_secrets(getattr(fctx.flow, "state_handlers", None) or ()))
    for t in tasks:
        found.update(_handler_secrets(t.state_handlers or ()))
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


# ---- capturing ------------------------------------------------------------------------------
class _Watched:
    """A flow run whose logs are captured."""

    __slots__ = ("dropped", "pk", "positions", "secrets")

    def __init__(self, pk: int, positions: Mapping[Task[Any], int],
                 secrets: tuple[str, ...]) -> None:
        self.pk = pk
        self.positions = positions
        self.secrets = secrets
        #: Lines not kept because too many were waiting, per (task, map index, attempt).
        self.dropped: dict[tuple[int, int, int], int] = {}


Row = tuple[int, int, int, int, float, int, str]


class LogBook:
    """The lines captured for the runs of one recorder, until they are written."""

    def __init__(self) -> None:
        self._pending: deque[tuple[_Watched, int, int, int, float, int, str]] = deque()
        self._watched: dict[FlowRunContext, _Watched] = {}
        self._sinks: dict[FlowRunContext, Any] = {}

    def watch(self, fctx: FlowRunContext, pk: int, positions: Mapping[Task[Any], int]) -> None:
        """Capture the logs of the flow run ``fctx``, recorded as ``pk``."""
        watched = self._watched[fctx] = _Watched(pk, positions, run_secrets(fctx, positions))
        pending = self._pending
        append = pending.append
        get_position = positions.get

        def sink(tctx: TaskRunContext, level: int, at: float, text: str) -> None:
            position = get_position(tctx.task)
            if position is None:  # not a task of this flow
                return
            map_index = -1 if tctx.map_index is None else tctx.map_index
            if len(pending) >= MAX_PENDING:
                key = (position, map_index, tctx.run_count)
                watched.dropped[key] = watched.dropped.get(key, 0) + 1
                return
            append((watched, position, map_index, tctx.run_count, at, level, text))

        self._sinks[fctx] = sink
        start_capture(fctx, sink)

    def unwatch(self, fctx: FlowRunContext) -> None:
        """Stop capturing ``fctx``'s logs (what was captured is still written)."""
        sink = self._sinks.pop(fctx, None)
        if sink is not None:
            stop_capture(fctx, sink)
        self._watched.pop(fctx, None)

    def clear(self) -> None:
        for fctx in list(self._sinks):
            self.unwatch(fctx)
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._pending)

    def take(self) -> list[Row]:
        """The lines waiting, as rows of ``task_logs``, redacted; the queue is emptied.

        Safe while task threads append: only what was there when called is taken.
        """
        pending = self._pending
        popleft = pending.popleft
        rows: list[Row] = []
        add = rows.append
        noted: set[_Watched] = set()
        for _ in range(len(pending)):
            watched, position, map_index, run_count, at, level, text = popleft()
            text = _bounded(text)
            if watched.secrets:
                text = redact(text, *watched.secrets)
            add((watched.pk, position, map_index, run_count, at, level, text))
            if watched.dropped:
                noted.add(watched)
        for watched in noted:
            dropped, watched.dropped = watched.dropped, {}
            for (position, map_index, run_count), n in dropped.items():
                add((watched.pk, position, map_index, run_count, time.time(), logging.WARNING, f"asyncflow: {n} log lines of this task run were not "
                     "recorded: they came faster than the history could write them"))
        return rows

    async def write(self, store: HistoryStore) -> None:
        """Write the lines waiting, in one transaction (an error is logged, not raised:
        the history never breaks a run)."""
        rows = self.take()
        if not rows:
            return
        try:
            await store._write(insert_statements(rows))
        except Exception as exc:
            logger.error("history: %d log lines were not recorded in %s: %s", len(rows),
                         store, exc)


def insert_statements(rows: Sequence[Row]) -> list[tuple[str, Sequence[Any]]]:
    """The INSERTs that record ``rows`` (see :meth:`LogBook.take`)."""
    return chunked_inserts(
        "INSERT INTO task_logs (flow_run, task, map_index, run_count, at, level, message)",
        rows, ROWS_PER_INSERT)


# ---- reading --------------------------------------------------------------------------------
async def read_logs(
    store: HistoryStore,
    run: int,
    task: int,
    map_index: int | None = None,
    *,
    level: str | int | None = None,
    after: int = 0,
    limit: int | None = DEFAULT_LIMIT,
) -> list[LogRecord]:
    """A task run's lines in the order they were logged: those at ``level`` or above,
    after the line ``after``, ``limit`` of them at most (None: all)."""
    minimum = level_number(level)
    if not isinstance(after, int) or not 0 <= after <= MAX_ID:
        raise ValueError(f"after must be a log line id from 0 to {MAX_ID}, not {after!r}")
    if limit is not None and (not isinstance(limit, int) or not 0 <= limit <= MAX_ID):
        raise ValueError(f"limit must be a whole number from 0 to {MAX_ID} or None, "
                         f"not {limit!r}")
    if not (0 <= task <= MAX_ID and (map_index is None or 0 <= map_index <= MAX_ID)):
        return []
    rows = await store.fetch(
        "SELECT id, run_count, at, level, message FROM task_logs "
        "WHERE flow_run = ? AND task = ? AND map_index = ? AND id > ? AND level >= ? "
        "ORDER BY id" + (" LIMIT ?" if limit is not None else ""),
        (run, task, -1 if map_index is None else map_index, after, minimum,
         *(() if limit is None else (limit,))),
    )
    return [
        LogRecord(id=int(r[0]), task=task, map_index=map_index, run_count=int(r[1]),
                  at=to_datetime(r[2]),  # type: ignore[arg-type]
                  level=logging.getLevelName(int(r[3])), levelno=int(r[3]), message=r[4])
        for r in rows
    ]


async def last_log_id(store: HistoryStore, run: int, task: int, map_index: int | None) -> int:
    """The id of a task run's latest recorded line (0 if none): a live view reads this
    first, then streams every line after it."""
    rows = await store.fetch(
        "SELECT MAX(id) FROM task_logs WHERE flow_run = ? AND task = ? AND map_index = ?",
        (run, task, -1 if map_index is None else map_index),
    )
    return int(rows[0][0] or 0)
