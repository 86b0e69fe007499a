"""The recorder: an engine observer that writes every transition to the history database.

The engine calls the recorder (a sync observer) on the event loop for every transition of
every task and of the flow. That call only appends to a buffer: no I/O, no await.
A writer task, started by :meth:`Recorder.open` and stopped by the last
:meth:`Recorder.close`, packs the buffer every ``flush_interval`` seconds, or as soon as
``batch_size`` transitions are waiting, into one row per run and ``batch_size``
transitions (see :mod:`._packing`), and writes the packed rows one write at a time.
``close`` packs and writes what is left and the run's final state, so the history is
complete when ``flow.run`` returns; a process that dies loses what was not written yet.
Every :data:`~._heartbeat.HEARTBEAT_INTERVAL` seconds the writer also writes a heartbeat
on each run's row, so that a run whose process died reads as ``Crashed``, and every
:data:`~._cancel.CANCEL_CHECK_INTERVAL` seconds it looks whether someone asked for one of
its runs to be cancelled, and cancels it (see :mod:`._cancel`).
Runs that name a database rather than pass a recorder share one recorder per event loop
and database (see :mod:`._sharing`).

The history never breaks a run: if the database cannot be reached or written, the error
is logged (logger ``asyncflow.history``) and the run goes on.

What a transition records: its time, old and new state names, message, run count, map
index, the task run's id, the result's location when the state holds a persisted result
(and for a :class:`~asyncflow.results.JSONResult` its JSON text; no other value is ever
read or stored) and, for a failure, the exception with its traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
import weakref
from collections.abc import Callable
from itertools import compress, count, repeat
from operator import attrgetter, is_, is_not
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from .._core._context import TaskRunContext, current_flow_run, flow_run_var, task_run_var
from .._core._exceptions import FlowRunError, MissingExtraError
from .._core._plan import plan_for
from .._core._run_cancel import RunCancel, current_run_cancel
from .._core._states import Failed, State
from .._results._json import JSONResult
from ..visualization import render
from ._cancel import CANCEL_CHECK_INTERVAL, cancel_asked_runs
from ._heartbeat import HEARTBEAT_INTERVAL as HEARTBEAT_INTERVAL, this_process
from ._logs import LogBook
from ._packing import pack
from ._records import is_final
from ._store import DEFAULT_URL, HistoryStore, display_url, store_for

if TYPE_CHECKING:
    from .._core._context import FlowRunContext
    from .._core._flow import Flow
    from .._core._task import Task

logger = logging.getLogger("asyncflow.history")

#: Results whose JSON text is longer are recorded by location only.
MAX_JSON_CHARS = 100_000
#: Longer error texts (tracebacks) keep their last part.
MAX_ERROR_CHARS = 8_000
MAX_PARAMETERS_CHARS = 100_000
#: How often the writer looks whether ``batch_size`` transitions are waiting.
_SIZE_CHECK_INTERVAL = 0.01

_now = time.time
_get_task_run = task_run_var.get
_get_flow_run = flow_run_var.get

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


class _Run:
    """What the recorder keeps about one flow run while it is recorded."""

    __slots__ = ("cancel", "flow", "flow_at", "flow_state", "graph_svg_pending",
                 "has_mapped", "ids_made", "pk", "positions", "seq", "task_count")

    def __init__(self, flow: Flow, positions: dict[Task[Any], int], has_mapped: bool) -> None:
        self.flow = flow
        self.positions = positions
        self.has_mapped = has_mapped
        #: The process's count of task run ids when the run started (see ``_pack_run``).
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


def _result_columns(result: Any) -> tuple[str | None, str | None]:
    """``(location, json_text)`` of a Result; a JSONResult's location is its JSON text."""
    location = result.location
    if not isinstance(location, str):
        return None, None
    if isinstance(result, JSONResult):
        return None, (location if len(location) <= MAX_JSON_CHARS else None)
    return location, None


def _error_text(state: State) -> str | None:
    exc = state.result
    if not isinstance(exc, BaseException):
        return None
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(text) > MAX_ERROR_CHARS:
        text = "...\n" + text[-MAX_ERROR_CHARS:]
    return text.rstrip()


_graphs: weakref.WeakKeyDictionary[Flow, tuple[Any, str]] = weakref.WeakKeyDictionary()


def _graph_json(flow: Flow, plan: Any) -> str:
    """The flow's graph as recorded (see ``HistoryStore.graph``), made once per version
    of the flow: a flow run on a schedule is recorded many times."""
    cached = _graphs.get(flow)
    if cached is not None and cached[0] is plan:
        return cached[1]
    tasks = plan.tasks
    index = plan.index
    text = json.dumps({
        "slugs": [t.slug or t.name for t in tasks],
        "names": [t.name for t in tasks],
        "mapped": [i for i, m in enumerate(plan.mapped) if m],
        "edges": [[index[e.upstream_task], index[e.downstream_task], e.key, e.mapped]
                  for e in flow.edges],
    })
    _graphs[flow] = (plan, text)
    return text


def _draw(flow: Flow, state: State | None) -> str | None:
    """The flow's DAG as SVG (coloured by ``state``'s task states), or None if it fails."""
    try:
        svg = render(flow, format="svg", flow_state=state)
    except Exception as exc:
        logger.debug("history: no DAG picture for flow %r: %s", flow.name, exc)
        return None
    if not isinstance(svg, str) or "<svg" not in svg:
        return None
    return svg


class Recorder:
    """Records flow runs in a history database; pass one as ``flow.run(history=...)``.

    ``url`` is the database (default ``sqlite:///~/.asyncflow/history.db``). Transitions
    are written every ``flush_interval`` seconds or ``batch_size`` transitions, whichever
    comes first. A DAG picture is drawn for flows of at most ``draw_max_tasks`` tasks.
    One recorder may record several runs, also at the same time.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        flush_interval: float = 0.05,
        batch_size: int = 1000,
        draw_max_tasks: int = 200,
        draw_timeout: float = 10.0,
    ) -> None:
        self.url = url or DEFAULT_URL
        self.store: HistoryStore = store_for(self.url)
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.draw_max_tasks = draw_max_tasks
        self.draw_timeout = draw_timeout
        self._buffer: list[Any] = []
        #: What the task runs log, written with the transitions (see :mod:`._logs`).
        self._logs = LogBook()
        self._observe: Callable[[Any, State, State], None] | None = None
        self._runs: dict[FlowRunContext, _Run] = {}
        self._open = 0
        self._connected = False
        self._connect_error: BaseException | None = None
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._writer: asyncio.Task[None] | None = None
        self._in_flight: asyncio.Task[None] | None = None
        self._packed: list[Batch] = []
        self._packed_flow_runs: Rows = []
        self._packed_beats: Rows = []
        self._cancel_check_due = False
        self._lifecycle_lock = asyncio.Lock()
        self._lifecycle_loop: asyncio.AbstractEventLoop | None = None
        #: Called when the last run recording here ends (see :mod:`._sharing`).
        self._on_idle: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"<Recorder {display_url(self.url)}>"

    # ---- the observer: called for every transition, must stay cheap ------------------
    def __call__(self, obj: Any, old: State, new: State) -> None:
        self.observe(obj, old, new)

    @property
    def observe(self) -> Callable[[Any, State, State], None]:
        """What the engine calls for each transition: a function with everything it
        uses bound in advance (the buffer is only ever emptied in place, never replaced)."""
        observe = self._observe
        if observe is None:
            extend = self._buffer.extend

            def observe(obj: Any, old: State, new: State) -> None:
                extend((_now(), obj, _get_task_run(), _get_flow_run(), old, new))

            self._observe = observe
        return observe

    # ---- around a run --------------------------------------------------------------
    async def open(self) -> None:
        """Called by the engine before the run starts: connect, and record the run."""
        fctx = current_flow_run()
        if fctx is None:
            raise FlowRunError(
                "Recorder.open() is called by the engine when a run starts; pass the "
                "recorder as flow.run(history=recorder) instead of opening it yourself"
            )
        async with self._lifecycle():
            if self._open == 0:
                try:
                    await self._start()
                except BaseException:  # no run records here: leave nothing registered
                    if self._on_idle is not None:
                        self._on_idle()
                    raise
            elif not self._connected:  # runs recording here went unrecorded: try again
                await self._connect()
            self._open += 1
        try:
            await self._record_start(fctx)
        except BaseException:
            # Shielded: a run cancelled here must still leave, or the recorder it
            # shares with other runs would never stop its writer.
            with anyio.CancelScope(shield=True):
                await self._release(fctx)
            raise

    async def _record_start(self, fctx: FlowRunContext) -> None:
        flow: Flow = fctx.flow
        plan = plan_for(flow)
        run = _Run(flow, plan.index, any(plan.mapped))
        self._runs[fctx] = run
        if not self._connected:
            logger.error("history: runs are not recorded in %s (flow run %s is not): %s",
                         display_url(self.url), fctx.values.get("flow_run_id"),
                         self._connect_error)
            return
        values = fctx.values
        try:
            parameters = json.dumps(values.get("parameters") or {}, default=repr)
        except Exception as exc:  # a parameter whose repr() fails
            parameters = json.dumps({"(not recordable)": str(exc)})
        if len(parameters) > MAX_PARAMETERS_CHARS:
            parameters = json.dumps({"(too large to record)": len(parameters)})
        try:
            run.pk = await self.store.create_flow_run(
                flow_run_id=str(values.get("flow_run_id")),
                flow_name=str(values.get("flow_name", flow.name)),
                state="Scheduled",
                parameters=parameters,
                started_at=_now(),
                task_count=run.task_count,
                graph=_graph_json(flow, plan),
                restart_of=values.get("restart_of"),
                process=this_process(),
            )
        except Exception as exc:
            self._log_failure("record the start of", fctx, exc)
            return
        self._logs.watch(fctx, run.pk, run.positions)
        run.graph_svg_pending = run.task_count <= self.draw_max_tasks

    async def close(self) -> None:
        """Called by the engine after the run: write everything left, and the final state."""
        fctx = current_flow_run()
        run = self._runs.get(fctx) if fctx is not None else None
        try:
            if fctx is not None:
                self._logs.unwatch(fctx)  # the flush below writes what it logged
            if run is not None:
                run.graph_svg_pending = False  # the final picture replaces the first one
            await self.flush()
            if run is not None and run.pk is not None:
                await self._finish(run, fctx)  # type: ignore[arg-type]
        finally:
            await self._release(fctx)

    async def _release(self, fctx: FlowRunContext | None) -> None:
        """Forget a run; the last run to go stops the writer and disconnects."""
        if fctx is not None:
            self._runs.pop(fctx, None)
        async with self._lifecycle():
            self._open -= 1
            if self._open == 0:
                if self._on_idle is not None:
                    self._on_idle()
                await self._stop()

    async def flush(self) -> None:
        """Write every transition observed so far (returns once they are in the database)."""
        if self._lock is None:
            return
        self._pack_buffer()
        await self._write_packed()
        await self._draw_pending()

    # ---- the writer ----------------------------------------------------------------
    def _lifecycle(self) -> asyncio.Lock:
        """Serialises connecting and disconnecting when runs open and close together."""
        loop = asyncio.get_running_loop()
        if self._lifecycle_loop is not loop:  # a recorder may serve one loop after another
            self._lifecycle_lock = asyncio.Lock()
            self._lifecycle_loop = loop
        return self._lifecycle_lock

    async def _start(self) -> None:
        self._closing = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        await self._connect()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _connect(self) -> None:
        """Connect and migrate; if that fails, the runs that open meanwhile are not
        recorded (each says so) and the next run to open tries again."""
        try:
            await self.store.connect()
            try:
                await self.store.migrate()
            except BaseException:
                await self.store.close()
                raise
        except MissingExtraError:
            raise
        except Exception as exc:
            self._connect_error = exc
            self._connected = False
        else:
            self._connected = True

    async def _stop(self) -> None:
        writer, self._writer = self._writer, None
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        try:
            if writer is not None:
                await writer
            if self._in_flight is not None:
                await self._in_flight
        finally:
            self._in_flight = None
            self._buffer.clear()
            self._logs.clear()
            self._packed, self._packed_flow_runs, self._packed_beats = [], [], []
            self._wake = self._lock = None
            if self._connected:
                self._connected = False
                await self.store.close()

    async def _write_loop(self) -> None:
        """Pack every ``flush_interval``, or sooner once ``batch_size`` transitions wait,
        and write what is packed whenever the previous write is done.

        Packing happens here, on the event loop, as transitions come in: it takes well
        under a microsecond per transition. Writing waits for the database (or its
        thread, which may wait for the interpreter while the run keeps the loop busy),
        so it runs as a task of its own: a slow write delays the rows behind it, never
        the run, and ``close`` only has the last few milliseconds left to pack. The
        buffer's size is looked at every few milliseconds here rather than by the
        observer, which keeps the observer to one append.
        """
        wake = self._wake
        assert wake is not None
        loop = asyncio.get_running_loop()
        clock = loop.time
        tick = min(self.flush_interval, _SIZE_CHECK_INTERVAL)
        next_beat = clock() + HEARTBEAT_INTERVAL
        next_cancel_check = clock() + CANCEL_CHECK_INTERVAL
        while not self._closing:
            due = clock() + self.flush_interval
            while not self._closing and len(self._buffer) < self.batch_size * WIDTH:
                left = due - clock()
                if left <= 0:
                    break
                with anyio.move_on_after(min(tick, left)):
                    await wake.wait()
            wake.clear()
            self._pack_buffer()
            if clock() >= next_beat:
                next_beat = clock() + HEARTBEAT_INTERVAL
                self._beat()
            if clock() >= next_cancel_check:
                next_cancel_check = clock() + CANCEL_CHECK_INTERVAL
                self._cancel_check_due = True
            in_flight = self._in_flight
            if in_flight is None or in_flight.done():
                self._in_flight = loop.create_task(self._write_in_background())

    async def _write_in_background(self) -> None:
        await self._write_packed()
        if self._cancel_check_due:
            self._cancel_check_due = False
            await self._cancel_requested_runs()
        await self._draw_pending()

    async def _cancel_requested_runs(self) -> None:
        if self._connected:
            await cancel_asked_runs(self.store, {
                run.pk: run.cancel for run in self._runs.values()
                if run.pk is not None and run.cancel is not None})

    def _beat(self) -> None:
        """Queue a heartbeat for every run being recorded (see :mod:`._heartbeat`)."""
        if self._connected:
            now = _now()
            self._packed_beats += [(now, run.pk) for run in self._runs.values()
                                   if run.pk is not None]

    def _pack_buffer(self) -> None:
        """Pack the buffer into rows, ``batch_size`` transitions per row at most."""
        buffer = self._buffer
        if not buffer:
            return
        pending = buffer[:]
        buffer.clear()
        if not self._connected:
            return
        size = max(self.batch_size, 1) * WIDTH
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            try:
                rows, flow_runs = self._rows(batch)
            except Exception:
                logger.exception("history: could not pack %d transitions",
                                 len(batch) // WIDTH)
                continue
            self._packed += rows
            self._packed_flow_runs += flow_runs

    async def _write_packed(self) -> None:
        """Write every packed row in one statement; writes happen one at a time, in
        order, so a reader never sees a later batch of a run before an earlier one."""
        lock = self._lock
        if lock is None:
            return
        async with lock:
            await self._logs.write(self.store)
            rows, flow_runs, beats = self._packed, self._packed_flow_runs, self._packed_beats
            if not rows and not flow_runs and not beats:
                return
            self._packed, self._packed_flow_runs, self._packed_beats = [], [], []
            try:
                await self.store.write_batch(rows, flow_runs, beats)
            except Exception as exc:
                logger.error(
                    "history: %d transitions were not recorded in %s (flow runs %s): %s",
                    sum(row[2] for row in rows), display_url(self.url),
                    self._run_ids({row[0] for row in rows}), exc,
                )

    def _run_ids(self, pks: set[int]) -> str:
        """The engine's ids of the recorded runs ``pks``, for a message."""
        ids = [str(fctx.values.get("flow_run_id")) for fctx, run in self._runs.items()
               if run.pk in pks]
        shown = ", ".join(ids[:5])
        return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")

    def _rows(self, batch: list[Any]) -> tuple[list[Batch], Rows]:
        """A slice of the buffer as rows for ``HistoryStore.write_batch``: one packed row
        per flow run (see :mod:`._packing`), and the flow runs' state updates."""
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
            run = self._runs.get(fctx)
            if run is not None and run.pk is not None:
                rows.append(self._pack_run(run, entries, flow_updates))
        return rows, flow_updates

    @staticmethod
    def _pack_run(run: _Run, entries: list[Any], flow_updates: Rows) -> Batch:
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
            location, json_text = _result_columns(result) if result is not None else (None, None)
            tctx = tctxs[i]
            run_id = run_ids[i] if tctx is not None and tctx.task is objs[i] else None
            extra.append((i, run_id, location, json_text,
                          _error_text(new) if type(new) in failed else None))
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

    # ---- pictures and the end of a run ------------------------------------------------
    async def _render(self, flow: Flow, state: State | None) -> str | None:
        with anyio.move_on_after(self.draw_timeout):
            return await anyio.to_thread.run_sync(_draw, flow, state, abandon_on_cancel=True)
        logger.warning("history: drawing flow %r took over %gs; recorded without a picture",
                       flow.name, self.draw_timeout)
        return None

    async def _draw_pending(self) -> None:
        for run in list(self._runs.values()):
            if run.graph_svg_pending and run.pk is not None:
                run.graph_svg_pending = False
                svg = await self._render(run.flow, None)
                if svg is not None:
                    try:
                        await self.store.set_dag_svg(run.pk, svg)
                    except Exception as exc:
                        logger.error("history: the DAG picture was not recorded: %s", exc)

    async def _finish(self, run: _Run, fctx: FlowRunContext) -> None:
        assert run.pk is not None
        state = run.flow_state
        asked = run.cancel.reason if run.cancel is not None else None
        if state is not None and is_final(type(state).__name__):
            name, message, ended = type(state).__name__, state.message, run.flow_at
            if asked is not None and name == "Cancelled":
                message = asked  # the history says why
        elif asked is not None:  # cancelled before the engine ran it
            name, message, ended, state = "Cancelled", asked, _now(), None
        else:
            name = "Failed"
            message = ("The flow run stopped without a final state: the engine raised an "
                       "error (see the process's output).")
            ended = _now()
            state = None
        svg = None
        if run.task_count <= self.draw_max_tasks:
            svg = await self._render(run.flow, state)
        try:
            await self.store.finish_flow_run(
                run.pk, state=name, message=message, ended_at=ended, dag_svg=svg
            )
        except Exception as exc:
            self._log_failure("record the end of", fctx, exc)

    def _log_failure(self, what: str, fctx: FlowRunContext, exc: BaseException) -> None:
        logger.error(
            "history: could not %s flow run %s in %s: %s",
            what, fctx.values.get("flow_run_id"), display_url(self.url), exc,
        )


def recorder_for(url: str) -> Callable[[Any, State, State], None]:
    """The engine's hook: the recorder that the runs of this event loop writing to
    ``url`` share (see :mod:`._sharing`)."""
    from ._sharing import shared_recorder

    return shared_recorder(url)
