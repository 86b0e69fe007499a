"""How the recorder's buffered transitions become rows of the history database.

The recorder appends each transition to one flat buffer (see :data:`WIDTH`); the writer
hands slices of it to :func:`rows_for`, which packs each flow run's transitions into one
row (see :mod:`._packing`), column by column, and collects the flow runs' own state
changes. Only the rare transitions that carry a result location, an error or a task run
id are visited one by one.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from itertools import compress, count, repeat
from operator import attrgetter, is_, is_not
from typing import TYPE_CHECKING, Any

from .._core._context import TaskRunContext
from .._core._run_cancel import RunCancel, current_run_cancel
from .._core._states import Failed, State
from .._results._json import JSONResult
from ._packing import pack

if TYPE_CHECKING:
    from .._core._flow import Flow
    from .._core._task import Task

#: Results whose JSON text is longer are recorded by location only.
MAX_JSON_CHARS = 100_000
#: Longer error texts (tracebacks) keep their last part.
MAX_ERROR_CHARS = 8_000

#: The buffer holds each transition as ``WIDTH`` consecutive items: time, object, task
#: run context, flow run context, old state, new state. One flat list, rather than a
#: tuple per transition, leaves the garbage collector nothing to track per transition,
#: and its columns are slices (``buffer[k::WIDTH]``).
WIDTH = 6
Rows = list[tuple[Any, ...]]
#: One packed batch of a flow run's transitions: ``(flow run, first_seq, count, data)``.
Batch = tuple[int, int, int, str]

_get_map_index = attrgetter("map_index")
_get_result_obj = attrgetter("_result_obj")
_get_message = attrgetter("message")
_get_run_count = attrgetter("run_count")


class RecordedRun:
    """What the recorder keeps about one flow run while it is recorded."""

    __slots__ = ("cancel", "flow", "flow_at", "flow_state", "graph_svg_pending",
                 "has_mapped", "ids_made", "pk", "positions", "seq", "task_count")

    def __init__(self, flow: Flow, positions: dict[Task[Any], int], has_mapped: bool) -> None:
        self.flow = flow
        self.positions = positions
        self.has_mapped = has_mapped
        #: The process's count of task run ids when the run started (see :func:`pack_run`).
        self.ids_made = TaskRunContext.ids_made
        self.task_count = len(positions)
        self.pk: int | None = None
        #: How many transitions of the run have been numbered (see ``_packing``).
        self.seq = 0
        self.flow_state: State | None = None
        self.flow_at = 0.0
        self.graph_svg_pending = False
        #: How to cancel the run when the history asks (None: flow.run did not offer it).
        self.cancel: RunCancel | None = current_run_cancel()


def result_columns(result: Any) -> tuple[str | None, str | None]:
    """``(location, json_text)`` of a Result; a JSONResult's location is its JSON text."""
    location = result.location
    if not isinstance(location, str):
        return None, None
    if isinstance(result, JSONResult):
        return None, (location if len(location) <= MAX_JSON_CHARS else None)
    return location, None


def error_text(state: State) -> str | None:
    """The traceback of a failed state's exception, its last part when long."""
    exc = state.result
    if not isinstance(exc, BaseException):
        return None
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(text) > MAX_ERROR_CHARS:
        text = "...\n" + text[-MAX_ERROR_CHARS:]
    return text.rstrip()


def rows_for(runs: Mapping[Any, RecordedRun], batch: list[Any]) -> tuple[list[Batch], Rows]:
    """A slice of the buffer as rows for ``HistoryStore.write_batch``: one packed row per
    flow run of ``runs`` (keyed by flow run context; see :mod:`._packing`), and the flow
    runs' state updates."""
    fctxs = batch[3::WIDTH]
    if fctxs.count(fctxs[0]) == len(fctxs):  # the usual case: one run recording
        groups: list[tuple[Any, list[Any]]] = [(fctxs[0], batch)]
    else:
        by_run: dict[Any, list[Any]] = {}
        for i, fctx in enumerate(fctxs):
            by_run.setdefault(fctx, []).extend(batch[i * WIDTH:(i + 1) * WIDTH])
        groups = list(by_run.items())
    rows: list[Batch] = []
    flow_updates: Rows = []
    for fctx, entries in groups:
        run = runs.get(fctx)
        if run is not None and run.pk is not None:
            rows.append(pack_run(run, entries, flow_updates))
    return rows, flow_updates


def pack_run(run: RecordedRun, entries: list[Any], flow_updates: Rows) -> Batch:
    """One run's transitions packed into one row, column by column: the per-transition
    work is done by ``map`` and friends, and Python loops only visit the rare
    transitions that carry a result, an error, a task run id or the flow's state."""
    assert run.pk is not None
    ats, objs, tctxs = entries[0::WIDTH], entries[1::WIDTH], entries[2::WIDTH]
    olds, news = entries[4::WIDTH], entries[5::WIDTH]
    n = len(ats)
    tasks: list[Any] = list(map(run.positions.get, objs))
    map_indexes: list[int | None]
    if run.has_mapped:
        map_indexes = list(map(_get_map_index, news))
        # A state without a map index: not a mapped child's, or made without it (by
        # a handler); the task run's context knows which.
        for i in compress(count(), map(is_, map_indexes, repeat(None))):
            tctx = tctxs[i]
            if tctx is not None and tctx.task is objs[i]:
                map_indexes[i] = tctx.map_index
    else:  # a state only has a map index in a mapped child
        map_indexes = [None] * n
    new_types = list(map(type, news))
    special: set[int] = set()
    results = list(map(_get_result_obj, news))
    if results.count(None) != n:
        special.update(compress(count(), map(is_not, results, repeat(None))))
    failed = {cls for cls in set(new_types) if issubclass(cls, Failed)}
    if failed:
        special.update(compress(count(), map(failed.__contains__, new_types)))
    if TaskRunContext.ids_made != run.ids_made:  # some task run made its id
        run_ids = list(map(getattr, tctxs, repeat("_run_id"), repeat(None)))
    else:
        run_ids = [None] * n
    if run_ids.count(None) != n:
        special.update(i for i in compress(count(), map(is_not, run_ids, repeat(None)))
                       if tctxs[i].task is objs[i])
    extra = []
    for i in sorted(special):
        new = news[i]
        result = results[i]
        location, json_text = result_columns(result) if result is not None else (None, None)
        tctx = tctxs[i]
        run_id = run_ids[i] if tctx is not None and tctx.task is objs[i] else None
        extra.append((i, run_id, location, json_text,
                      error_text(new) if type(new) in failed else None))
    if tasks.count(None):  # the flow's own transitions
        for i in compress(count(), map(is_, tasks, repeat(None))):
            tasks[i] = -1
            if objs[i] is run.flow:
                new = news[i]
                run.flow_state = new
                run.flow_at = ats[i]
                flow_updates.append((type(new).__name__, new.message, ats[i], run.pk))
    first_seq = run.seq + 1
    run.seq += n
    data = pack(
        at=ats, task=tasks, task_bound=run.task_count, map_index=map_indexes, old=list(map(type, olds)),
        new=new_types, message=list(map(_get_message, news)),
        run_count=list(map(_get_run_count, news)), extra=extra,
    )
    return (run.pk, first_seq, n, data)
