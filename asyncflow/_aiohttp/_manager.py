"""The run manager: accepts runs, runs them in the background, forgets old ones, shuts down.

Runs are children of one anyio task group, and one dedicated *owner* task holds that task
group for the manager's whole life: :meth:`RunManager.start` creates the owner and returns
once the task group is open; :meth:`RunManager.aclose` tells the owner to stop and waits for
it. A task group must be entered and exited by the same task, and aiohttp may run an app's
startup and cleanup in different tasks, so neither of them holds the task group itself.

Shutdown cancels every active run: the engine moves unfinished tasks to ``Cancelled`` and
awaits their state handlers (each bounded by ``engine.cancel_handler_timeout``); the
manager waits at most ``shutdown_timeout`` seconds for all of that before it gives up
waiting and logs which runs were still ending.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup
from typing_extensions import Self

from .._core._exceptions import ConfigError, FlowRunError, ParameterError
from .._core._flow import Flow
from .._core._parameter import resolve_parameters
from ._errors import RunLimitError, RunManagerClosedError, UnknownFlowError, UnknownRunError
from ._runs import FlowRun

logger = logging.getLogger("asyncflow.contrib.aiohttp")

#: The ``flow.run`` options a manager may set for all of its runs.
RUN_OPTIONS = frozenset({
    "timeout", "max_concurrency", "task_concurrency_limits", "checkpointing", "executor",
    "history",
})


def check_int(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{name} must be a number of seconds > 0, got {value!r}")
    return float(value)


def restart_supported() -> bool:
    """Whether this engine's ``flow.run`` takes ``restart_from`` (a failed run's id)."""
    return "restart_from" in inspect.signature(Flow.run).parameters


def check_restart(flow_run_id: object) -> str:
    if not restart_supported():
        raise FlowRunError(
            "this version of asyncflow cannot restart a run: flow.run() has no "
            "restart_from option; upgrade asyncflow, or start a new run instead"
        )
    if not isinstance(flow_run_id, str) or not flow_run_id:
        raise ParameterError(f"restart_from must be a flow run id (a string), got {flow_run_id!r}")
    return flow_run_id


class RunManager:
    """Runs flows in the background on behalf of a service.

    Use it through :func:`asyncflow.contrib.aiohttp.setup`, which starts and stops it with
    the app, or on its own::

        async with RunManager([etl]) as manager:
            run = manager.submit("etl", {"day": "2024-05-01"})
            state = await run.wait()

    - ``max_concurrent_runs``: active runs allowed at once; :meth:`submit` raises
      :class:`RunLimitError` beyond it.
    - ``keep_finished_runs``: finished runs kept in memory (the most recent ones); older
      ones are forgotten and :meth:`get` no longer finds them.
    - ``max_events_per_run``: transitions kept per run for replaying event streams (the
      most recent ones).
    - ``subscriber_queue_size``: live events buffered per event-stream client before that
      client is disconnected as too slow.
    - ``run_options``: ``flow.run`` options for every run (``timeout``,
      ``max_concurrency``, ``task_concurrency_limits``, ``checkpointing``, ``executor``,
      ``history``).
    - ``shutdown_timeout``: how long :meth:`aclose` waits for cancelled runs to end.
    """

    def __init__(
        self,
        flows: Iterable[Flow],
        *,
        max_concurrent_runs: int = 16,
        keep_finished_runs: int = 1000,
        max_events_per_run: int = 1000,
        subscriber_queue_size: int = 256,
        run_options: Mapping[str, Any] | None = None,
        shutdown_timeout: float = 10.0,
    ) -> None:
        registered: dict[str, Flow] = {}
        for flow in flows:
            if not isinstance(flow, Flow):
                raise ConfigError(
                    f"flows must be Flow objects, got {flow!r}; pass the flows themselves, "
                    "e.g. flows=[etl_flow]"
                )
            if flow.name in registered:
                raise ConfigError(
                    f"two flows are named {flow.name!r}; runs are started by flow name, so "
                    "names must be unique: rename one, e.g. Flow('etl-daily')"
                )
            if "/" in flow.name or not flow.name:
                raise ConfigError(
                    f"flow name {flow.name!r} cannot be used in a URL path; "
                    "give the flow a name without '/'"
                )
            registered[flow.name] = flow
        if not registered:
            raise ConfigError("no flows given; pass the flows to serve, e.g. flows=[etl_flow]")
        unknown = sorted(set(run_options or {}) - RUN_OPTIONS)
        if unknown:
            raise ConfigError(
                f"run_options has unknown keys {unknown}; allowed: {sorted(RUN_OPTIONS)}"
            )
        self.flows: Mapping[str, Flow] = registered
        self.max_concurrent_runs = check_int("max_concurrent_runs", max_concurrent_runs, minimum=1)
        self.keep_finished_runs = check_int("keep_finished_runs", keep_finished_runs, minimum=0)
        self.max_events_per_run = check_int("max_events_per_run", max_events_per_run, minimum=1)
        self.subscriber_queue_size = check_int(
            "subscriber_queue_size", subscriber_queue_size, minimum=1
        )
        self.run_options = dict(run_options or {})
        self.shutdown_timeout = check_seconds("shutdown_timeout", shutdown_timeout)
        self._runs: dict[str, FlowRun] = {}
        self._finished: deque[str] = deque()
        self._active = 0
        self._task_group: TaskGroup | None = None
        self._owner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._closing = False

    # ---- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Start the owner task that holds the runs' task group; returns once it is ready."""
        if self._owner is not None:
            raise FlowRunError("this RunManager was already started; a manager starts once")
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._owner = loop.create_task(self._serve(ready), name="asyncflow run manager")
        try:
            await asyncio.wait({ready, self._owner}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._closing = True
            self._stop.set()  # the caller gave up: the owner must not outlive it
            raise
        if self._owner.done():
            self._owner.result()  # the owner failed to start: raise its error here

    async def _serve(self, ready: asyncio.Future[None]) -> None:
        """The owner task: holds the task group until asked to stop, then cancels the runs."""
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                ready.set_result(None)
                await self._stop.wait()
                task_group.cancel_scope.cancel()
        finally:
            self._task_group = None
            if not ready.done():
                ready.cancel()

    async def aclose(self) -> None:
        """Refuse new runs, cancel the active ones and wait (bounded) for them to end.

        Event streams of runs that ended get their ``end`` event; streams still open after
        ``shutdown_timeout`` get a ``shutdown`` event. Safe to call more than once.
        """
        self._closing = True
        self._stop.set()
        owner = self._owner
        if owner is None:
            return
        if not owner.done():
            await asyncio.wait({owner}, timeout=self.shutdown_timeout)
        if not owner.done():
            still = [run.id for run in self._runs.values() if not run.done]
            logger.warning(
                "%d flow run(s) did not end within shutdown_timeout=%gs after being "
                "cancelled (a state handler may be hanging): %s",
                len(still), self.shutdown_timeout, ", ".join(still),
            )
        for run in self._runs.values():
            run.close_subscribers("the server is shutting down")
        if owner.done() and not owner.cancelled():
            owner.result()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---- runs ---------------------------------------------------------------------------
    @property
    def active_runs(self) -> int:
        """How many runs are active (accepted and not ended)."""
        return self._active

    def submit(
        self,
        flow_name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        restart_from: str | None = None,
    ) -> FlowRun:
        """Start a run of the flow named ``flow_name`` in the background; the new run.

        Everything is checked before the run is accepted: an unknown flow raises
        :class:`UnknownFlowError`, parameters that do not match the flow
        :class:`~asyncflow.ParameterError`, too many active runs :class:`RunLimitError`,
        a manager that is not running :class:`RunManagerClosedError`. ``context`` adds
        keys to the run's context (``context.http`` in a task, for example).
        ``restart_from`` (a flow run id) runs ``flow.run(restart_from=...)``, where the
        engine supports it: the parameters are then left to that run.
        """
        flow = self.get_flow(flow_name)
        options = self.run_options
        if restart_from is not None:
            options = {**options, "restart_from": check_restart(restart_from)}
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ParameterError(
                f"parameters must be a mapping of parameter names to values, got "
                f"{type(parameters).__name__}"
            )
        if restart_from is None:
            resolve_parameters(flow, parameters)
        task_group = self._task_group
        if task_group is None or self._closing:
            raise RunManagerClosedError(
                "the run manager is shutting down and accepts no new runs"
                if self._closing else
                "the run manager is not started; start it with `async with manager:` or "
                "let setup(app, ...) start it with the app"
            )
        if self._active >= self.max_concurrent_runs:
            raise RunLimitError(
                f"{self._active} runs are active, the limit (max_concurrent_runs="
                f"{self.max_concurrent_runs}); retry when one has finished"
            )
        run = FlowRun(flow, parameters or {}, max_events=self.max_events_per_run)
        self._runs[run.id] = run
        self._active += 1
        task_group.start_soon(self._drive, run, dict(context or {}), options,
                              name=f"flow run {run.id}")
        return run

    def get_flow(self, flow_name: str) -> Flow:
        """The flow served under ``flow_name``; :class:`UnknownFlowError` if there is none."""
        flow = self.flows.get(flow_name)
        if flow is None:
            raise UnknownFlowError(
                f"no flow named {flow_name!r}; this service runs {sorted(self.flows)}"
            )
        return flow

    async def _drive(
        self, run: FlowRun, context: dict[str, Any], options: Mapping[str, Any]
    ) -> None:
        try:
            await run.execute(context, options)
        finally:
            self._active -= 1
            self._finished.append(run.id)
            while len(self._finished) > self.keep_finished_runs:
                self._runs.pop(self._finished.popleft(), None)

    def get(self, run_id: str) -> FlowRun:
        """The run with this id; :class:`UnknownRunError` if there is none (any more)."""
        run = self._runs.get(run_id)
        if run is None:
            raise UnknownRunError(
                f"no run with id {run_id!r}; it never existed or is older than the "
                f"{self.keep_finished_runs} most recent finished runs this service keeps"
            )
        return run

    def cancel(self, run_id: str) -> FlowRun:
        """Ask the run to stop (see :meth:`FlowRun.cancel`); the run."""
        run = self.get(run_id)
        run.cancel()
        return run

    def runs(self) -> list[FlowRun]:
        """Every run kept in memory, oldest first."""
        return list(self._runs.values())

    def __repr__(self) -> str:
        return (
            f"<RunManager flows={sorted(self.flows)} active={self._active}/"
            f"{self.max_concurrent_runs}>"
        )
