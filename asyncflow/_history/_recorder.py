"""The recorder: an engine observer that writes every transition to the history database.

The engine calls the recorder (a sync observer) on the event loop for every transition of
every task and of the flow. That call only appends a tuple to a buffer: no I/O, no await.
A writer task, started by :meth:`Recorder.open` and awaited by :meth:`Recorder.close`,
writes the buffer every ``flush_interval`` seconds, or as soon as ``batch_size``
transitions are waiting: at most ``batch_size`` transitions per transaction, each batch
turned into rows just before it is written. ``close`` writes what is left and the run's
final state, so the history is complete when ``flow.run`` returns; a process that dies
loses at most the batch being written.

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
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from .._core._context import current_flow_run, flow_run_var, task_run_var
from .._core._exceptions import FlowRunError, MissingExtraError
from .._core._states import Failed, State
from .._results._json import JSONResult
from ..visualization import render
from ._records import is_final
from ._store import DEFAULT_URL, HistoryStore, Segment, display_url, store_for

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

Entry = tuple[float, Any, Any, Any, State, State]
Rows = list[tuple[Any, ...]]


class _Run:
    """What the recorder keeps about one flow run while it is recorded."""

    __slots__ = ("flow", "flow_at", "flow_state", "graph_svg_pending", "pk", "positions",
                 "task_count")

    def __init__(self, flow: Flow, positions: dict[Task[Any], int]) -> None:
        self.flow = flow
        self.positions = positions
        self.task_count = len(positions)
        self.pk: int | None = None
        self.flow_state: State | None = None
        self.flow_at = 0.0
        self.graph_svg_pending = False


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
        self._buffer: list[Entry] = []
        self._runs: dict[FlowRunContext, _Run] = {}
        self._open = 0
        self._connected = False
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._writer: asyncio.Task[None] | None = None
        self._lifecycle_lock = asyncio.Lock()
        self._lifecycle_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"<Recorder {display_url(self.url)}>"

    # ---- the observer: called for every transition, must stay cheap ------------------
    def __call__(self, obj: Any, old: State, new: State) -> None:
        self._buffer.append((_now(), obj, _get_task_run(), _get_flow_run(), old, new))

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
                await self._start()
            self._open += 1
        try:
            await self._record_start(fctx)
        except BaseException:
            await self._release(fctx)
            raise

    async def _record_start(self, fctx: FlowRunContext) -> None:
        from .._core._flow_runner import plan_for

        flow: Flow = fctx.flow
        plan = plan_for(flow)
        run = _Run(flow, plan.index)
        self._runs[fctx] = run
        if not self._connected:
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
            )
        except Exception as exc:
            self._log_failure("record the start of", fctx, exc)
            return
        run.graph_svg_pending = run.task_count <= self.draw_max_tasks

    async def close(self) -> None:
        """Called by the engine after the run: write everything left, and the final state."""
        fctx = current_flow_run()
        run = self._runs.get(fctx) if fctx is not None else None
        try:
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
                await self._stop()

    async def flush(self) -> None:
        """Write every transition observed so far (returns once they are in the database)."""
        lock = self._lock
        if lock is None:
            return
        async with lock:
            await self._write_buffer()
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
            logger.error("history: runs are not recorded: %s", exc)
            self._connected = False
        else:
            self._connected = True
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _stop(self) -> None:
        writer, self._writer = self._writer, None
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        try:
            if writer is not None:
                await writer
        finally:
            self._buffer = []
            self._wake = self._lock = None
            if self._connected:
                self._connected = False
                await self.store.close()

    async def _write_loop(self) -> None:
        """Flush every ``flush_interval``, or sooner once ``batch_size`` transitions wait.

        The buffer's size is looked at every few milliseconds here rather than by the
        observer, which keeps the observer to one append.
        """
        wake = self._wake
        assert wake is not None
        clock = asyncio.get_running_loop().time
        tick = min(self.flush_interval, _SIZE_CHECK_INTERVAL)
        while not self._closing:
            due = clock() + self.flush_interval
            while not self._closing and len(self._buffer) < self.batch_size:
                left = due - clock()
                if left <= 0:
                    break
                with anyio.move_on_after(min(tick, left)):
                    await wake.wait()
            wake.clear()
            await self.flush()

    async def _write_buffer(self) -> None:
        """Write the buffer, ``batch_size`` transitions per transaction.

        Each batch is turned into rows just before it is written, so the event loop is
        never held longer than one batch takes.
        """
        pending = self._buffer
        if not pending:
            return
        self._buffer = []
        if not self._connected:
            return
        size = max(self.batch_size, 1)
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            try:
                segments, flow_runs = self._rows(batch)
            except Exception:
                logger.exception("history: could not turn %d transitions into rows",
                                 len(batch))
                continue
            try:
                await self.store.write_batch(segments, flow_runs)
            except Exception as exc:
                logger.error(
                    "history: %d transitions were not recorded in %s: %s",
                    len(batch), display_url(self.url), exc,
                )

    def _rows(self, batch: list[Entry]) -> tuple[list[Segment], Rows]:
        """The batch as rows for ``HistoryStore.write_batch``, in the order it happened."""
        runs = self._runs
        segments: list[Segment] = []
        full_kind = False
        flat: list[Any] = []
        extend = flat.extend
        flow_updates: dict[int, tuple[Any, ...]] = {}
        run: _Run | None = None
        last_fctx: Any = None
        pk: int | None = None
        flow: Any = None
        positions: dict[Any, int] = {}
        for at, obj, tctx, fctx, old, new in batch:
            if fctx is not last_fctx:
                last_fctx = fctx
                run = runs.get(fctx)
                pk = run.pk if run is not None else None
                if run is not None:
                    flow, positions = run.flow, run.positions
            if pk is None:
                continue
            map_index: int | None
            if obj is flow:
                assert run is not None
                task = run_id = None
                map_index = -1
                run.flow_state = new
                run.flow_at = at
                flow_updates[pk] = (type(new).__name__, new.message, at, pk)
            else:
                task = positions.get(obj, -1)
                if tctx is not None and tctx.task is obj:
                    # The engine makes a task run's id only when asked for it: never here.
                    run_id = tctx._run_id
                    map_index = tctx.map_index
                else:
                    run_id = None
                    map_index = new.map_index
                if map_index is None:
                    map_index = -1
            result = new._result_obj
            failed = isinstance(new, Failed)
            if result is None and not failed and run_id is None:
                if full_kind or not flat:  # a run of short rows starts
                    flat = []
                    extend = flat.extend
                    segments.append((False, flat))
                    full_kind = False
                extend((pk, task, map_index, at, type(old).__name__, type(new).__name__,
                        new.message, new.run_count))
                continue
            if not full_kind or not flat:  # a run of full rows starts
                flat = []
                extend = flat.extend
                segments.append((True, flat))
                full_kind = True
            location, json_text = _result_columns(result) if result is not None else (None, None)
            extend((pk, task, map_index, at, type(old).__name__, type(new).__name__,
                    new.message, new.run_count, run_id, location, json_text,
                    _error_text(new) if failed else None))
        return segments, list(flow_updates.values())

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
        if state is not None and is_final(type(state).__name__):
            name, message, ended = type(state).__name__, state.message, run.flow_at
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
    """The engine's hook: a new recorder writing to ``url``."""
    return Recorder(url)
