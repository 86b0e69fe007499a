"""DaskExecutor: task bodies run on a Dask cluster; orchestration stays in the driver.

States, handlers, triggers, retries and notifications stay in the caller's event loop.
Only the body of each task run (each attempt, each mapped child) goes to a worker, through
Dask's asynchronous client sharing the caller's loop. Per flow run the executor keeps a
:class:`_RunSession`: the client (and the temporary cluster it started, if any), the run's
worker plugin (its context values, installed once per worker) and two batchers:

- submissions made in the same loop iteration (the children of a map) go to the
  scheduler as one graph per kind of body and set of resources;
- results that finish together are fetched with one request, one request at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import logging
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import cloudpickle
import distributed
from distributed.client import FutureCancelledError

from .._core._context import FlowRunContext, _overlay_var, current_flow_run, current_task_run
from .._core._exceptions import FlowDefinitionError, FlowRunError
from .._core._executor import Executor, Persisted, PersistRequest, TaskTimeoutError
from .._core._log_capture import captures, deliver
from .._core._signals import ENDRUN, Signal
from ._errors import DaskExecutorError, RemoteTaskError, RemoteTraceback
from ._worker import (
    BodyBlob,
    BodyRef,
    Outcome,
    RunPlugin,
    TaskCall,
    TaskInfo,
    body_ref,
    run_async_call,
    run_sync_call,
)

if TYPE_CHECKING:
    from .._core._resources import RunResources
    from .._core._task import Task

__all__ = ["DaskExecutor"]

logger = logging.getLogger("asyncflow.dask")

RESOURCE_TAG = "dask-resource:"
#: Bound on cleaning up (plugin, futures, client, temporary cluster) when a run ends.
CLOSE_TIMEOUT = 30.0

#: While other bodies run, finished results wait for company before one fetch gets them
#: all: LINGER_FACTOR times as long as the last fetch took, within LINGER_MIN..MAX
#: seconds, so that fetching costs a small share of the time. GATHER_MAX bounds a fetch.
LINGER_FACTOR = 8.0
LINGER_MIN = 0.002
LINGER_MAX = 0.1
GATHER_MAX = 1000

#: distributed is mostly unannotated: its client, cluster and futures are used as Any.
_distributed: Any = distributed
DaskFuture = Any
_ResourceKey = tuple[tuple[str, float], ...]

#: Marks a result that the batched fetch could not get: the waiter fetches it alone.
_ALONE: Any = object()


def parse_resource_tags(tags: frozenset[str], owner: str) -> _ResourceKey:
    """``dask-resource:GPU=1`` tags as sorted ``(name, amount)`` pairs."""
    found: dict[str, float] = {}
    for tag in tags:
        if not tag.startswith(RESOURCE_TAG):
            continue
        name, sep, amount = tag[len(RESOURCE_TAG):].partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = -1.0
        if not sep or not name or value <= 0:
            raise FlowDefinitionError(
                f"{owner}: tag {tag!r} is not a Dask resource request; write it as "
                "'dask-resource:NAME=AMOUNT' with a positive amount, e.g. 'dask-resource:GPU=1'"
            )
        found[name] = value
    return tuple(sorted(found.items()))


class _Submission:
    __slots__ = ("func", "key", "payload", "resources", "waiter")

    def __init__(self, func: Callable[..., Any], payload: bytes, key: str,
                 resources: _ResourceKey, waiter: asyncio.Future[DaskFuture]) -> None:
        self.func = func
        self.payload = payload
        self.key = key
        self.resources = resources
        self.waiter = waiter


class _RunSession:
    """What one flow run uses on the cluster."""

    def __init__(self, client: Any, cluster: Any, values: dict[str, Any],
                 dropped: frozenset[str], batch: bool) -> None:
        self.client = client
        self.cluster = cluster
        self.values = values
        self.dropped = dropped
        self.batch = batch
        self.run_key = uuid.uuid4().hex
        self.plugin_name = f"asyncflow-run-{self.run_key}"
        self.plugin_installed = False
        self.loop = asyncio.get_running_loop()
        self.counter = itertools.count()
        self.bodies: dict[Task[Any], BodyRef | BodyBlob] = {}
        self.resource_cache: dict[frozenset[str], _ResourceKey] = {}
        self.outbox: list[_Submission] = []
        self.flush_handle: asyncio.Handle | None = None
        self.futures: set[DaskFuture] = set()
        self.gather_box: list[tuple[DaskFuture, asyncio.Future[Any]]] = []
        self.gather_wakeup = asyncio.Event()
        self.gatherer: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Install the run's context on the workers and start fetching results."""
        try:
            await self.client.register_plugin(RunPlugin(self.run_key, self.values),
                                              name=self.plugin_name)
        except Exception as exc:
            raise DaskExecutorError(
                f"could not install the run's context on the Dask workers "
                f"({type(exc).__name__}: {exc}); the workers need asyncflow-engine installed, "
                "in the same version as here"
            ) from exc
        self.plugin_installed = True
        self.gatherer = self.loop.create_task(self._gather_forever(),
                                              name="asyncflow-dask-gather")

    # ---- one call ---------------------------------------------------------------------
    def call_payload(self, task: Task[Any], body: Callable[..., Any], inputs: dict[str, Any],
                     timeout: float | None, persist: PersistRequest | None) -> bytes:
        """The pickled :class:`TaskCall` for one body run."""
        task_run = current_task_run()
        if task_run is None:  # pragma: no cover - the engine always sets it
            raise FlowRunError("DaskExecutor.submit() was called outside a task run")
        overlay = _overlay_var.get()
        info = TaskInfo(
            name=task.name, slug=task.slug or task.name, tags=task.tags,
            map_index=task_run.map_index, run_count=task_run.run_count,
            loop_count=task_run.loop_count, loop_result=task_run.loop_result,
            run_id=task_run.task_run_id, overlay=dict(overlay) if overlay else None,
            log_stdout=task.log_stdout,
        )
        if persist is not None:
            # The worker adds the run's context values back: send only what differs.
            values, dropped = self.values, self.dropped
            kwargs = {k: v for k, v in persist.kwargs.items()
                      if k not in dropped and not (k in values and values[k] is v)}
            persist = PersistRequest(persist.result, kwargs)
        shipped = self.bodies.get(task)
        if shipped is None:
            shipped = self.bodies[task] = self._ship(task, body)
        call = TaskCall(body=shipped, inputs=inputs, task=info, persist=persist,
                        timeout=timeout, run_key=self.run_key,
                        capture_logs=captures(current_flow_run()))
        try:
            payload: bytes = cloudpickle.dumps(call)
        except Exception as exc:
            raise DaskExecutorError(
                f"task {task.name!r} could not be sent to the Dask cluster: "
                f"{type(exc).__name__}: {exc}. Its body and inputs (and, with a persisting "
                "Result, the Result) must be picklable to run on Dask workers"
            ) from exc
        return payload

    def _ship(self, task: Task[Any], body: Callable[..., Any]) -> BodyRef | BodyBlob:
        """How ``body`` travels: by name if importable, else pickled by value once."""
        ref = body_ref(body)
        if ref is not None:
            return ref
        try:
            blob = cloudpickle.dumps(body)
        except Exception as exc:
            raise DaskExecutorError(
                f"the body of task {task.name!r} cannot be pickled to run on Dask workers: "
                f"{type(exc).__name__}: {exc}. Define the task at module level in an "
                "importable module, or keep unpicklable objects out of its closure"
            ) from exc
        return BodyBlob(f"body-{len(self.bodies)}", blob)

    def resources_for(self, task: Task[Any]) -> _ResourceKey:
        found = self.resource_cache.get(task.tags)
        if found is None:
            found = self.resource_cache[task.tags] = parse_resource_tags(
                task.tags, f"task {task.name!r}")
        return found

    def key_for(self, task: Task[Any]) -> str:
        return f"{task.name}-{next(self.counter)}-{self.run_key}"

    # ---- sending ----------------------------------------------------------------------
    def enqueue(self, submission: _Submission) -> None:
        if not self.batch:
            self._send([submission])
            return
        self.outbox.append(submission)
        if self.flush_handle is None:
            self.flush_handle = self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send everything queued in this loop iteration: one graph per kind of call."""
        self.flush_handle = None
        queued, self.outbox = self.outbox, []
        groups: dict[tuple[Any, _ResourceKey], list[_Submission]] = {}
        for item in queued:
            if not item.waiter.done():  # a submit cancelled before the flush
                groups.setdefault((item.func, item.resources), []).append(item)
        for items in groups.values():
            self._send(items)

    def _send(self, items: list[_Submission]) -> None:
        first = items[0]
        resources = dict(first.resources) or None
        try:
            if len(items) == 1:
                futures = [self.client.submit(first.func, first.payload, key=first.key,
                                              pure=False, resources=resources)]
            else:
                futures = self.client.map(first.func, [i.payload for i in items],
                                          key=[i.key for i in items], pure=False,
                                          resources=resources)
        except Exception as exc:
            error = DaskExecutorError(
                f"could not send task runs to the Dask scheduler: {type(exc).__name__}: {exc}")
            for item in items:
                item.waiter.set_exception(error)
            return
        for item, future in zip(items, futures, strict=True):
            self.futures.add(future)
            item.waiter.set_result(future)

    # ---- receiving --------------------------------------------------------------------
    async def outcome(self, future: DaskFuture, name: str) -> Any:
        """The worker's outcome for ``future`` (of task ``name``), once it is done."""
        await future.exception()  # waits until the future is done, fetches no data
        finished = future.status == "finished"
        if finished:
            value = await self._gather(future)
            if value is not _ALONE:
                return value
        try:
            return await future
        except FutureCancelledError as exc:
            raise DaskExecutorError(
                f"the Dask task {future.key!r} of task {name!r} was cancelled outside this "
                f"run (reason: {exc.reason})"
            ) from None
        except Exception as exc:
            raise _cluster_error(name, exc, finished) from exc

    async def _gather(self, future: DaskFuture) -> Any:
        waiter: asyncio.Future[Any] = self.loop.create_future()
        self.gather_box.append((future, waiter))
        self.gather_wakeup.set()
        return await waiter

    async def _gather_forever(self) -> None:
        """Fetch finished results in batches: one request for many results.

        One fetch is in flight at a time; results finishing meanwhile join the next one.
        While other bodies of the run are still running, the gatherer lingers a little
        (a multiple of what the last fetch took, within bounds) so that a wide map's
        results come back in a few large fetches rather than many small ones; a lone
        task (a chain) is fetched at once. If a batch cannot be fetched, each waiter
        fetches its own (and sees its own error).
        """
        loop = self.loop
        linger = LINGER_MIN
        while True:
            await self.gather_wakeup.wait()
            deadline = loop.time() + linger
            while True:
                self.gather_wakeup.clear()
                waiting = len(self.gather_box)
                running = len(self.futures) - waiting
                remaining = deadline - loop.time()
                if running <= 0 or waiting >= GATHER_MAX or remaining <= 0:
                    break
                with anyio.move_on_after(remaining):
                    await self.gather_wakeup.wait()
            batch = [(f, w) for f, w in self.gather_box if not w.done()]
            self.gather_box = []
            if not batch:
                continue
            started = loop.time()
            try:
                values = await self.client.gather([f for f, _ in batch])
            except (Exception, FutureCancelledError):
                values = [_ALONE] * len(batch)
            linger = min(LINGER_MAX, max(LINGER_MIN, LINGER_FACTOR * (loop.time() - started)))
            for (_, waiter), value in zip(batch, values, strict=True):
                if not waiter.done():
                    waiter.set_result(value)

    # ---- ending -----------------------------------------------------------------------
    async def close(self) -> None:
        """Cancel what is left of the run on the cluster, then close the client."""
        if self.gatherer is not None:
            self.gatherer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.gatherer
        for _, waiter in self.gather_box:
            waiter.cancel()
        self.gather_box.clear()
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
        for item in self.outbox:
            item.waiter.cancel()
        self.outbox.clear()
        client = self.client
        try:
            if self.futures:
                await client.cancel(list(self.futures), reason="the asyncflow run ended")
                self.futures.clear()
            if self.plugin_installed:
                # Tears the run down on each worker: its context and its storage clients.
                await client.unregister_worker_plugin(self.plugin_name)
        except Exception:
            logger.warning("cleaning up the run on the Dask cluster failed", exc_info=True)
        finally:
            await client.close()
            if self.cluster is not None:
                await self.cluster.close()


def _cluster_error(name: str, exc: Exception, finished: bool) -> DaskExecutorError:
    """An error of the cluster (not of the body), saying what it means for the task."""
    first_line = (str(exc).strip().splitlines() or [""])[0]
    what = f"{type(exc).__name__}: {first_line}"
    if finished:
        return DaskExecutorError(
            f"task {name!r} finished on a Dask worker but its result could not be sent "
            f"back ({what}); a task run on Dask must return a picklable value"
        )
    hint = ""
    if isinstance(exc, ImportError):
        hint = ("; the workers must be able to import the modules that define the flow's "
                "tasks: install that code where the workers run")
    return DaskExecutorError(f"task {name!r} could not run on the Dask cluster ({what}){hint}")


class DaskExecutor(Executor):
    """Run task bodies on a Dask cluster: ``flow.run(executor=DaskExecutor(...))``.

    Without ``address`` each run starts a temporary cluster (``cluster_class``, by
    default :class:`distributed.LocalCluster`, built with ``cluster_kwargs``) and closes
    it when the run ends. With ``address`` (``"tcp://host:8786"``) runs connect to that
    scheduler. ``client_kwargs`` go to :class:`distributed.Client`. ``cluster_class`` may
    be a class or its import path (``"dask_jobqueue.SLURMCluster"``).

    One executor may serve several runs, also at the same time: each run has its own
    client and, without an address, its own cluster.
    """

    def __init__(
        self,
        address: str | None = None,
        cluster_class: type[Any] | str | None = None,
        cluster_kwargs: Mapping[str, Any] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if address is not None and (cluster_class is not None or cluster_kwargs):
            raise ValueError(
                "DaskExecutor takes either address= (connect to a running scheduler) or "
                "cluster_class=/cluster_kwargs= (start a temporary cluster), not both"
            )
        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self._sessions: dict[FlowRunContext, _RunSession] = {}
        #: Send the submissions of one loop iteration as one graph (off: one each).
        self._batch_submits = True

    def __repr__(self) -> str:
        if self.address is not None:
            return f"DaskExecutor(address={self.address!r})"
        return f"DaskExecutor(cluster_class={self._cluster_class_name()})"

    # ---- run lifecycle ----------------------------------------------------------------
    async def start(self, resources: RunResources) -> None:
        run = _current_run()
        if run in self._sessions:
            raise FlowRunError("DaskExecutor.start() was called twice for the same run")
        _check_resource_tags(run)
        values, dropped = _shippable_values(run.values)
        client, cluster = await self._connect()
        session = _RunSession(client, cluster, values, dropped, self._batch_submits)
        try:
            await session.open()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await session.close()
            raise
        self._sessions[run] = session

    async def stop(self) -> None:
        session = self._sessions.pop(_current_run(), None)
        if session is None:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT) as scope:
            await session.close()
        if scope.cancelled_caught:
            logger.warning("cleaning up the run on the Dask cluster took over %ss",
                           CLOSE_TIMEOUT)

    async def _connect(self) -> tuple[Any, Any]:
        # The run's client is not made the process-wide default client (as dask would):
        # dask code elsewhere in the driver keeps using whatever it used before.
        client_kwargs = {"set_as_default": False, **self.client_kwargs}
        if self.address is not None:
            try:
                client = await _distributed.Client(self.address, asynchronous=True,
                                                   **client_kwargs)
            except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
                raise DaskExecutorError(
                    f"could not connect to the Dask scheduler at {self.address!r}: {exc}. "
                    "Check that the scheduler is running and reachable from here, or leave "
                    "address=None to start a temporary local cluster for each run"
                ) from exc
            return client, None
        cluster_class = self._resolve_cluster_class()
        kwargs = dict(self.cluster_kwargs)
        if cluster_class is _distributed.LocalCluster:
            # A fixed dashboard port clashes between runs; pick a free one.
            kwargs.setdefault("dashboard_address", ":0")
        cluster = await cluster_class(asynchronous=True, **kwargs)
        try:
            client = await _distributed.Client(cluster, asynchronous=True, **client_kwargs)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await cluster.close()
            raise
        logger.info("started a temporary Dask cluster for the run: %s (dashboard: %s)",
                    cluster, getattr(cluster, "dashboard_link", None))
        return client, cluster

    def _resolve_cluster_class(self) -> Any:
        spec = self.cluster_class
        if spec is None:
            return _distributed.LocalCluster
        if isinstance(spec, str):
            module_name, _, name = spec.rpartition(".")
            try:
                return getattr(importlib.import_module(module_name), name)
            except (ImportError, AttributeError, ValueError) as exc:
                raise DaskExecutorError(
                    f"cluster_class {spec!r} cannot be imported ({exc}); give an import "
                    "path such as 'dask_jobqueue.SLURMCluster', or the class itself"
                ) from exc
        return spec

    def _cluster_class_name(self) -> str:
        spec = self.cluster_class
        if spec is None:
            return "LocalCluster"
        return spec if isinstance(spec, str) else spec.__name__

    # ---- one body -----------------------------------------------------------------------
    async def submit(
        self,
        task: Task[Any],
        body: Callable[..., Any],
        inputs: dict[str, Any],
        *,
        timeout: float | None,  # noqa: ASYNC109 - the Executor interface; enforced on the worker
        persist: PersistRequest | None,
    ) -> Any:
        """Run ``body(**inputs)`` on a worker and return its value, or :class:`Persisted`."""
        session = self._sessions.get(_current_run())
        if session is None:
            raise FlowRunError(
                "DaskExecutor.submit() was called outside a run it was started for; pass "
                "the executor to flow.run(executor=...) rather than calling it directly"
            )
        payload = session.call_payload(task, body, inputs, timeout, persist)
        func = run_async_call if task._is_async else run_sync_call
        waiter: asyncio.Future[DaskFuture] = session.loop.create_future()
        session.enqueue(_Submission(func, payload, session.key_for(task),
                                    session.resources_for(task), waiter))
        future = await waiter
        try:
            outcome: Outcome = await session.outcome(future, task.name)
        except asyncio.CancelledError:
            with anyio.CancelScope(shield=True):
                await session.client.cancel([future], reason="the asyncflow task was cancelled")
            raise
        finally:
            session.futures.discard(future)
            future.release()
        if outcome[3]:  # what the body logged on the worker (see _worker_logs)
            deliver(current_flow_run(), current_task_run(), outcome[3])
        return _unpack(task, outcome)


def _current_run() -> FlowRunContext:
    run = current_flow_run()
    if run is None:
        raise FlowRunError(
            "DaskExecutor is used by flow runs; pass it as flow.run(executor=DaskExecutor()) "
            "or Flow(..., executor=DaskExecutor())"
        )
    return run


def _check_resource_tags(run: FlowRunContext) -> None:
    """Refuse malformed ``dask-resource:`` tags before any task runs."""
    for task in getattr(run.flow, "tasks", ()):
        parse_resource_tags(task.tags, f"task {task.name!r}")


def _shippable_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The run's context values that can be pickled, and the names of those that cannot."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in values.items():
        try:
            cloudpickle.dumps(value)
        except Exception:
            dropped.append(key)
        else:
            kept[key] = value
    if dropped:
        logger.warning(
            "context keys %s cannot be pickled, so task bodies on Dask workers will not see "
            "them; pass picklable values in flow.run(context=...) to make them available",
            ", ".join(sorted(dropped)),
        )
    return kept, frozenset(dropped)


def _unpack(task: Task[Any], outcome: Outcome) -> Any:
    """Turn a worker's outcome into the body's value, or raise what the body raised."""
    kind, payload, detail, _ = outcome
    if kind == "value":
        return payload
    if kind == "persisted":
        return Persisted(payload)
    if kind == "raised":
        if not isinstance(payload, Signal) and isinstance(payload, Exception) \
                and payload.__cause__ is None:
            payload.__cause__ = RemoteTraceback(detail)
        raise payload
    if kind == "endrun":
        raise ENDRUN(payload)
    if kind == "timeout":
        if payload:
            warnings.warn(
                f"task {task.name!r} timed out after {task.timeout:g}s; its sync body cannot "
                "be interrupted, so its thread on the Dask worker was abandoned and may still "
                "be running. Make the body async to have it cancelled.",
                RuntimeWarning,
                stacklevel=3,
            )
        raise TaskTimeoutError
    if kind == "write-failed":
        logger.warning(
            "task %r could not write its result on the Dask worker (%s); writing it from "
            "the driver instead", task.name, detail,
        )
        return payload
    if kind == "unpicklable":
        type_name, message, text = payload
        error = RemoteTaskError(
            f"task {task.name!r} raised {type_name}: {message} on a Dask worker, and that "
            f"exception cannot be pickled to come back ({detail}). Its worker traceback is "
            "in .traceback_text; make the exception class picklable to get it back as itself",
            type_name=type_name, remote_message=message, traceback_text=text,
        )
        error.__cause__ = RemoteTraceback(text)
        raise error
    raise DaskExecutorError(f"unknown outcome {kind!r} from a Dask worker")  # pragma: no cover
