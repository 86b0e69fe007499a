"""What runs on a Dask worker: one task body, in its run's context, then its write.

For each run the driver installs a :class:`RunPlugin` on every worker (and Dask installs
it on workers that join later): it carries the run's context values (names, parameters,
configuration, secrets), so they cross the network once per worker, not once per task,
and it closes the storage clients the run opened on the worker when the run ends.

For each body the driver sends a pickled :class:`TaskCall` to :func:`run_sync_call`
(sync bodies, in the worker's thread pool) or :func:`run_async_call` (``async def``
bodies, on the worker's event loop). Pickled by the driver, the call is opaque to the
scheduler: it never imports asyncflow or the user's modules. Neither function lets an
exception from the body escape: each returns an *outcome* ``(kind, payload, detail)``:

- ``("value", value, None)``: the body returned ``value``;
- ``("persisted", result, None)``: the body returned and ``result`` (location and value)
  was written from the worker;
- ``("write-failed", value, reason)``: the write failed on the worker; the driver
  writes again, so a failure is reported exactly as in a local run;
- ``("raised", exc, traceback_text)``: the body raised ``exc`` (signals included), which
  was checked to survive pickling;
- ``("unpicklable", (type_name, message, traceback_text), reason)``: it raised something
  that cannot travel back;
- ``("endrun", state, None)``: the body raised ``ENDRUN(state)``;
- ``("timeout", body_was_sync, None)``: the body ran past its timeout.

When the driver captures the run's logs, the call says so and the worker captures what
the body logs and prints (see :mod:`._worker_logs`); the outcome then carries those lines
as a fourth item, else None.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import cloudpickle
from distributed import WorkerPlugin, get_worker

from .._core._context import (
    FlowRunContext,
    TaskRunContext,
    _overlay_var,
    flow_run_var,
    task_run_var,
)
from .._core._executor import PersistRequest
from .._core._resources import RunResources
from .._core._signals import ENDRUN
from .._core._task import Task
from ._worker_logs import LoggerWatch, LogLines, captured

#: ``(kind, payload, detail, logs)``: see the module.
Outcome = tuple[str, Any, Any, Any]
_Result = tuple[str, Any, Any]


class _Slotted:
    """Pickles its slots as a tuple (small, and the same on Python 3.10 and later)."""

    __slots__: tuple[str, ...] = ()

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)


class TaskInfo(_Slotted):
    """The driver's task-run context as plain data (names, counters, run id, overlay)."""

    __slots__ = ("log_stdout", "loop_count", "loop_result", "map_index", "name", "overlay",
                 "run_count", "run_id", "slug", "tags")

    def __init__(self, *, name: str, slug: str, tags: frozenset[str], map_index: int | None,
                 run_count: int, loop_count: int, loop_result: Any, run_id: str,
                 overlay: dict[str, Any] | None, log_stdout: bool = False) -> None:
        self.name = name
        self.slug = slug
        self.tags = tags
        self.map_index = map_index
        self.run_count = run_count
        self.loop_count = loop_count
        self.loop_result = loop_result
        self.run_id = run_id
        self.overlay = overlay
        self.log_stdout = log_stdout


class BodyRef(_Slotted):
    """A task's body sent by name: the worker imports the module that defines the task.

    ``@task`` replaces a module's function by the task, so pickle cannot send the function
    by reference and cloudpickle would copy it by value, with every module global it uses
    (locks, clients...). Sending the name instead is what pickle does for any importable
    function; the worker must be able to import the module, as with any Dask function.
    """

    __slots__ = ("module", "qualname")

    def __init__(self, module: str, qualname: str) -> None:
        self.module = module
        self.qualname = qualname

    def resolve(self) -> Callable[..., Any]:
        key = (self.module, self.qualname)
        body = _resolved.get(key)
        if body is None:
            found: Any = importlib.import_module(self.module)
            for part in self.qualname.split("."):
                found = getattr(found, part)
            body = _resolved[key] = found._body()
        return body


_resolved: dict[tuple[str, str], Callable[..., Any]] = {}


class BodyBlob(_Slotted):
    """A body that cannot be sent by name (defined in ``__main__`` or in a function).

    Pickled by value once per task in the driver; each worker unpickles it once per run.
    """

    __slots__ = ("blob", "key")

    def __init__(self, key: str, blob: bytes) -> None:
        self.key = key
        self.blob = blob


def body_ref(body: Callable[..., Any]) -> BodyRef | None:
    """A reference to ``body`` if it is the body of a task defined at module level.

    (A task used in a flow is a copy of the module's task, with the same body.)
    """
    module = getattr(body, "__module__", None)
    qualname = getattr(body, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<locals>" in qualname:
        return None
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not isinstance(found, Task) or found._body() is not body:
        return None
    return BodyRef(module, qualname)


class TaskCall(_Slotted):
    """One body run, as the driver sends it (pickled) to a worker.

    ``persist.kwargs`` holds only what differs from the run's context values; the worker
    adds those back before formatting the location. With ``capture_logs`` the worker
    captures what the body logs and sends it back with the outcome.
    """

    __slots__ = ("body", "capture_logs", "inputs", "persist", "run_key", "task", "timeout")

    def __init__(self, *, body: BodyRef | BodyBlob, inputs: dict[str, Any],
                 task: TaskInfo, persist: PersistRequest | None, timeout: float | None,
                 run_key: str, capture_logs: bool = False) -> None:
        self.body = body
        self.inputs = inputs
        self.task = task
        self.persist = persist
        self.timeout = timeout
        self.run_key = run_key
        self.capture_logs = capture_logs


# ---- the run, installed on each worker --------------------------------------------------
class _Run:
    __slots__ = ("bodies", "loggers", "resources", "values", "workers")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.resources = RunResources()
        self.bodies: dict[str, Callable[..., Any]] = {}
        self.workers = 0
        #: The loggers tapped in this process for the run's log capture, until it ends.
        self.loggers = LoggerWatch()


#: The runs installed in this process (shared by its workers when they are threads).
_runs: dict[str, _Run] = {}


class RunPlugin(WorkerPlugin):
    """Installs one run's context values on a worker; closes the run's clients there."""

    idempotent = False

    def __init__(self, run_key: str, values: dict[str, Any]) -> None:
        self.run_key = run_key
        self.values = values

    def setup(self, worker: Any) -> None:
        run = _runs.get(self.run_key)
        if run is None:
            run = _runs[self.run_key] = _Run(self.values)
        run.workers += 1

    async def teardown(self, worker: Any) -> None:
        run = _runs.get(self.run_key)
        if run is None:
            return
        run.workers -= 1
        if run.workers <= 0:
            del _runs[self.run_key]
            run.loggers.close()
            await run.resources.aclose()


def _run_for(call: TaskCall) -> _Run:
    run = _runs.get(call.run_key)
    if run is None:
        raise RuntimeError(
            f"this Dask worker has no context for asyncflow run {call.run_key!r}: the "
            "run's worker plugin was not installed here (the run may have ended)"
        )
    return run


# ---- the run context ----------------------------------------------------------------
class _TaskStub:
    """What a TaskRunContext reads from its task: the name, slug and tags."""

    __slots__ = ("name", "slug", "tags")

    def __init__(self, info: TaskInfo) -> None:
        self.name = info.name
        self.slug = info.slug
        self.tags = info.tags


@contextmanager
def _run_context(call: TaskCall, run: _Run, lines: LogLines | None) -> Iterator[None]:
    """The task run's context around the body; with ``lines``, what it logs goes there."""
    info = call.task
    task_ctx = TaskRunContext(_TaskStub(info), info.map_index, info.run_count,  # type: ignore[arg-type]
                              info.loop_count, info.loop_result)
    task_ctx._run_id = info.run_id
    fctx = FlowRunContext(run.values, run.resources, None)
    flow_token = flow_run_var.set(fctx)
    task_token = task_run_var.set(task_ctx)
    overlay_token = _overlay_var.set(info.overlay)
    try:
        if lines is None:
            yield
        else:
            run.loggers.hold(fctx)
            with captured(fctx, lines, prints=info.log_stdout):
                yield
    finally:
        _overlay_var.reset(overlay_token)
        task_run_var.reset(task_token)
        flow_run_var.reset(flow_token)


# ---- outcomes -----------------------------------------------------------------------
def _raised(exc: BaseException) -> _Result:
    """The outcome for an exception: itself if it survives pickling, else its description."""
    text = "".join(traceback.format_exception(exc))
    if isinstance(exc, ENDRUN):
        try:
            cloudpickle.loads(cloudpickle.dumps(exc.state))
        except Exception as why:
            return ("unpicklable", (_type_name(exc), str(exc), text), _reason(why))
        return ("endrun", exc.state, None)
    try:
        cloudpickle.loads(cloudpickle.dumps(exc))
    except Exception as why:
        return ("unpicklable", (_type_name(exc), str(exc), text), _reason(why))
    return ("raised", exc, text)


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _persist(call: TaskCall, run: _Run, value: Any) -> _Result:
    persist = call.persist
    if persist is None:
        return ("value", value, None)
    try:
        written = await persist.result.write(value, **{**run.values, **persist.kwargs})
    except Exception as exc:
        return ("write-failed", value, _reason(exc))
    return ("persisted", written, None)


def _prepare(payload: bytes) -> tuple[TaskCall, _Run, Callable[..., Any]]:
    """Unpickle a call and find its run and body (failures here are the cluster's)."""
    call: TaskCall = cloudpickle.loads(payload)
    run = _run_for(call)
    shipped = call.body
    if isinstance(shipped, BodyRef):
        return call, run, shipped.resolve()
    body = run.bodies.get(shipped.key)
    if body is None:
        body = run.bodies[shipped.key] = cloudpickle.loads(shipped.blob)
    return call, run, body


# ---- sync bodies --------------------------------------------------------------------
class _DeadlinePassedError(Exception):
    """The body's thread is still running at its deadline."""


def _call_before_deadline(body: Callable[..., Any], inputs: dict[str, Any],
                          timeout: float) -> Any:
    """``body(**inputs)`` in its own thread; give up on it after ``timeout`` seconds.

    A thread cannot be interrupted: past the deadline it is abandoned (it may still be
    running) and the worker's slot is freed, as the local executor does.
    """
    context = contextvars.copy_context()
    box: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            box.append((True, context.run(body, **inputs)))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, daemon=True, name="asyncflow-task-body")
    thread.start()
    thread.join(timeout)
    if not box:
        raise _DeadlinePassedError
    ok, value = box[0]
    if ok:
        return value
    raise value


def _on_worker_loop(coro: Coroutine[Any, Any, _Result]) -> _Result:
    """Run ``coro`` on this worker's event loop, where the run's shared clients live."""
    try:
        loop: asyncio.AbstractEventLoop | None = getattr(get_worker().loop, "asyncio_loop", None)
    except ValueError:  # not on a worker
        loop = None
    if loop is None or not loop.is_running():
        return asyncio.run(coro)
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


async def _finish_sync(call: TaskCall, run: _Run, value: Any,
                       lines: LogLines | None) -> _Result:
    with _run_context(call, run, lines):
        if asyncio.iscoroutine(value):
            try:
                value = await value
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                return _raised(exc)
        return await _persist(call, run, value)


def run_sync_call(payload: bytes) -> Outcome:
    """Run a sync body on a worker thread and return its outcome."""
    call, run, body = _prepare(payload)
    lines = LogLines() if call.capture_logs else None
    return (*_run_sync(call, run, body, lines), lines and lines.shipped())


def _run_sync(call: TaskCall, run: _Run, body: Callable[..., Any],
              lines: LogLines | None) -> _Result:
    with _run_context(call, run, lines):
        try:
            if call.timeout is None:
                value = body(**call.inputs)
            else:
                value = _call_before_deadline(body, call.inputs, call.timeout)
        except _DeadlinePassedError:
            return ("timeout", True, None)
        except BaseException as exc:
            return _raised(exc)
    if asyncio.iscoroutine(value) or call.persist is not None:
        return _on_worker_loop(_finish_sync(call, run, value, lines))
    return ("value", value, None)


# ---- async bodies -------------------------------------------------------------------
async def run_async_call(payload: bytes) -> Outcome:
    """Run an ``async def`` body on the worker's event loop and return its outcome.

    Only a cancellation of this coroutine itself (the worker is closing, and Dask will
    run the task again elsewhere) propagates.
    """
    call, run, body = _prepare(payload)
    lines = LogLines() if call.capture_logs else None
    return (*await _run_async(call, run, body, lines), lines and lines.shipped())


async def _run_async(call: TaskCall, run: _Run, body: Callable[..., Any],
                     lines: LogLines | None) -> _Result:
    with _run_context(call, run, lines):
        try:
            if call.timeout is None:
                value = await body(**call.inputs)
            else:
                with anyio.move_on_after(call.timeout) as scope:
                    value = await body(**call.inputs)
                if scope.cancelled_caught:
                    return ("timeout", False, None)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            return _raised(exc)
        return await _persist(call, run, value)
