"""Running a flow: the DAG scheduler.

Each task runs as soon as its last upstream finishes. A node that finishes runs one of
the tasks it made ready itself (so a chain costs no task spawns) and spawns the others
as asyncio tasks; mapped children are spawned the same way. Every task the run starts
is tracked, and cancelled and awaited before :meth:`FlowRunner.run` returns or raises,
so nothing is left running.

The graph is walked as index lists (:mod:`asyncflow._core._plan`); mapped tasks run
their children through :mod:`asyncflow._core._mapped_runs`.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ._attached import attached
from ._config import load_config
from ._context import FlowRunContext, flow_run_var
from ._exceptions import FlowDefinitionError
from ._flow import _check_max_concurrency
from ._limits import Limiter, tag_limiters
from ._mapped_runs import SPAWN_BATCH, flattened, run_mapped
from ._options import to_seconds
from ._parameter import resolve_parameters
from ._plan import plan_for as plan_for  # benchmarks import it from here too
from ._resources import RunResources
from ._states import (
    Cancelled,
    Failed,
    Finished,
    Mapped,
    Paused,
    Pending,
    Resume,
    Running,
    Scheduled,
    State,
    Success,
    TimedOut,
)
from ._task_runner import Observer, TaskRunner

if TYPE_CHECKING:
    from ._flow import Flow
    from ._task import Task

_NO_STATES: list[State] = []


class FlowRunner:
    """One run of a flow. Validates everything it can before any task runs."""

    def __init__(
        self,
        flow: Flow,
        *,
        parameters: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        task_states: Mapping[Task[Any], State] | None = None,
        timeout: float | datetime.timedelta | None = None,
        max_concurrency: int | None = None,
        task_concurrency_limits: Mapping[str, int] | None = None,
        checkpointing: bool | None = None,
        executor: Any = None,
        observers: Iterable[Observer] = (),
        history: Any = None,
        restart_from: int | str | None = None,
    ) -> None:
        self.flow = flow
        self.history = history
        self.options: dict[str, Any] = {
            "parameters": parameters, "context": context, "task_states": task_states,
            "timeout": timeout, "max_concurrency": max_concurrency,
            "task_concurrency_limits": task_concurrency_limits,
            "checkpointing": checkpointing, "executor": executor, "observers": observers,
            "history": history, "restart_from": restart_from,
        }
        self.plan = plan_for(flow)
        #: The restart being run (see :mod:`asyncflow._history._restart`), once planned.
        self.restart: Any = None
        self.restart_from = restart_from
        if restart_from is not None:
            attached.check_restart_options(flow, restart_from, parameters, task_states, history)
            self.parameters = dict(parameters or {})  # completed from the old run's
        else:
            self.parameters = resolve_parameters(flow, parameters)
        self.user_context = dict(context or {})
        self.task_states = dict(task_states or {})
        for t in self.task_states:
            if t not in self.plan.index:
                raise FlowDefinitionError(
                    f"task_states names {t!r}, which is not a task of flow {flow.name!r}"
                )
        for t in self.plan.targeted:
            result = t.result if t.result is not None else flow.result
            if result is None or not result.persists:
                raise FlowDefinitionError(
                    f"task {t.name!r} has target={t.target!r} but no persisting result; "
                    "give the task or the flow one, e.g. result=LocalResult(dir=...)"
                )
        self.timeout = to_seconds(timeout, "timeout", f"flow {flow.name!r}")
        if max_concurrency is None:
            max_concurrency = flow.max_concurrency
        if max_concurrency is not None:
            _check_max_concurrency(max_concurrency)
        self.max_concurrency = max_concurrency
        self.task_concurrency_limits = dict(task_concurrency_limits or {})
        self.checkpointing = checkpointing
        self.executor = executor if executor is not None else flow.executor
        self.observers = list(observers)
        self.options["observers"] = list(self.observers)

    # ---- the run ------------------------------------------------------------------
    async def run(self) -> State:
        config = load_config()
        if self.restart_from is not None and self.restart is None:
            await attached.start_restart(self, config)
        flow = self.flow
        plan = self.plan
        n = len(plan.tasks)
        checkpointing = (
            self.checkpointing
            if self.checkpointing is not None
            else bool(config.flows.checkpointing)
        )
        max_concurrency = self.max_concurrency or int(config.flows.max_concurrency or 0) or None
        limits = {**dict(config.get("task_concurrency_limits") or {}),
                  **self.task_concurrency_limits}
        secrets = {**dict(config.context.get("secrets") or {}),
                   **dict(self.user_context.get("secrets") or {})}
        now = datetime.datetime.now(datetime.timezone.utc)
        run_id = str(self.user_context.get("flow_run_id") or uuid.uuid4())
        values: dict[str, Any] = {
            "date": now,
            "scheduled_start_time": now,
            "flow_run_name": flow.name,
            **self.user_context,
            "flow_name": flow.name,
            "flow_run_id": run_id,
            "parameters": self.parameters,
            "config": config,
            "secrets": secrets,
        }
        resources = RunResources()
        executor = self.executor
        self.task_runner = TaskRunner(
            flow=flow,
            parameters=self.parameters,
            checkpointing=checkpointing,
            body_limiter=Limiter(max_concurrency, "max_concurrency") if max_concurrency else None,
            tag_registry=tag_limiters(limits) if limits else {},
            thread_limiter=anyio.CapacityLimiter(int(config.engine.thread_limit)),
            observers=self.observers,
            executor=executor,
            cancel_handler_timeout=float(config.engine.cancel_handler_timeout),
        )
        self.states: list[State | None] = [None] * n
        self._remaining = list(plan.n_up)
        self._blocked = [False] * n
        self._unfinished = n
        #: Every asyncio task the run spawned and that has not ended (see :meth:`spawn`).
        self.live: set[asyncio.Task[Any]] = set()
        self._done = asyncio.Event()
        self._crash: BaseException | None = None
        self._loop = asyncio.get_running_loop()

        observers = self.observers = self._run_observers(config)
        # An observer may offer a plain function to call instead of itself (``observe``):
        # a call to an object's __call__ costs about twice as much, on every transition.
        self.task_runner.observers = tuple(getattr(o, "observe", o) for o in observers)
        opened: list[Any] = []
        token = flow_run_var.set(FlowRunContext(values, resources, flow))
        try:
            for observer in observers:
                if hasattr(observer, "open"):
                    await observer.open()
                    opened.append(observer)
            if executor is not None and hasattr(executor, "start"):
                await executor.start(resources)
            state: State = Scheduled()
            state = await self._flow_transition(state, Running("Running flow."))
            if not isinstance(state, Running):
                return state
            try:
                timed_out = await self._run_graph()
            except asyncio.CancelledError:
                await self._cancel_all()
                final: State = Cancelled("Flow run was cancelled.", result=self._task_results())
                bound = self.task_runner.cancel_handler_timeout
                with anyio.CancelScope(shield=True), anyio.move_on_after(bound):
                    await self._flow_transition(state, final)
                raise
            except BaseException:
                await self._cancel_all()
                raise
            if timed_out:
                await self._cancel_all()
                final = TimedOut(
                    f"Flow run timed out after {self.timeout:g}s.", result=self._task_results()
                )
            else:
                final = self._final_state()
            return await self._flow_transition(state, final)
        finally:
            try:
                if executor is not None and hasattr(executor, "stop"):
                    with anyio.CancelScope(shield=True):
                        await executor.stop()
            finally:
                try:
                    for observer in reversed(opened):
                        with anyio.CancelScope(shield=True):
                            await observer.close()
                finally:
                    await resources.aclose()
                    flow_run_var.reset(token)

    def _run_observers(self, config: Any) -> list[Any]:
        """The run's observers, plus the history recorder when history is on, and the
        tracer when OpenTelemetry is set up (see :mod:`asyncflow._tracing`)."""
        observers = list(self.options["observers"])
        tracer = attached.tracing_observer()
        if tracer is not None:
            observers.append(tracer)
        history = self.history
        if history is False:
            return observers
        if history is None or history is True:
            url = str(config.get_path("history.url") or "")
            if not url and history is True:
                url = "sqlite:///~/.asyncflow/history.db"
            history = url or None
        if isinstance(history, str):
            observers.append(attached.history_observer(history))
        elif history is not None:
            observers.append(history)
        return observers

    async def _flow_transition(self, old: State, new: State) -> State:
        return await self.task_runner.transition(self.flow, old, new)

    async def _run_graph(self) -> bool:
        """Run every task; True if the run's timeout expired first."""
        n = len(self.plan.tasks)
        if n == 0:
            return False
        roots = [i for i in range(n) if self._remaining[i] == 0]
        if self.timeout is None:
            await self._spawn_nodes(roots)
            await self._done.wait()
        else:
            with anyio.move_on_after(self.timeout) as scope:
                await self._spawn_nodes(roots)
                await self._done.wait()
            if scope.cancelled_caught and self._unfinished:
                return True
        if self._crash is not None:
            raise self._crash
        return False

    # ---- spawning -------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` as a task of this run; it removes itself from :attr:`live`."""
        self.live.add(self._loop.create_task(coro))

    def crashed(self, exc: BaseException) -> None:
        """An engine bug: stop waiting, so the run cancels everything and re-raises it."""
        if self._crash is None:
            self._crash = exc
        self._done.set()

    async def _spawn_nodes(self, nodes: Sequence[int]) -> None:
        for k, i in enumerate(nodes):
            if k and not k % SPAWN_BATCH:
                await asyncio.sleep(0)  # let spawned no-op tasks finish: bounded memory
            self.spawn(self._drive(i))

    # ---- nodes ----------------------------------------------------------------------
    async def _drive(self, i: int) -> None:
        """Run node ``i``, then whatever it made ready: one inline, the rest spawned."""
        plan = self.plan
        remaining = self._remaining
        states = self.states
        runner = self.task_runner
        resuming = bool(self.task_states) or self.restart is not None
        try:
            while True:
                if plan.mapped[i] or resuming:
                    state = await self._run_node(i)
                else:
                    upstream, inputs = self._node_args(i)
                    state = await runner.run(plan.tasks[i], upstream, inputs, None, None,
                                             False, states, i, plan.edges[i])
                states[i] = state
                self._unfinished -= 1
                if not state.is_finished():
                    self._block_descendants(i)
                ready: list[int] = []
                for j in plan.downstream[i]:
                    remaining[j] -= 1
                    if remaining[j] == 0 and not self._blocked[j]:
                        ready.append(j)
                if self._unfinished == 0:
                    self._done.set()
                if not ready:
                    return
                if len(ready) > 1:
                    await self._spawn_nodes(ready[1:])
                i = ready[0]
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.crashed(exc)  # the run re-raises it; this spawned task ends quietly
        finally:
            self.live.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]

    def _block_descendants(self, i: int) -> None:
        """Tasks downstream of a paused task wait for a later run: they stay Pending."""
        stack = list(self.plan.downstream[i])
        while stack:
            j = stack.pop()
            if self._blocked[j] or self.states[j] is not None:
                continue
            self._blocked[j] = True
            self._unfinished -= 1
            stack.extend(self.plan.downstream[j])

    def _node_args(self, i: int) -> tuple[list[State], dict[str, Any]]:
        """Node ``i``'s upstream states and its inputs (constants, then upstream results)."""
        constants = self.plan.constants[i]
        inputs: dict[str, Any] = dict(constants) if constants else {}
        if not self.plan.has_edges[i]:
            return _NO_STATES, inputs
        states: list[Any] = self.states  # every upstream has finished: no None here
        upstream: list[State] = []
        for edge, u in self.plan.in_edges[i]:
            state = states[u]
            upstream.append(state)
            if edge.key is not None:
                inputs[edge.key] = state.result
        if self.plan.flattened[i]:
            for edge, u in self.plan.in_edges[i]:
                if edge.flattened and edge.key is not None:
                    inputs[edge.key] = [s.result for s in flattened(states[u])]
        return upstream, inputs

    async def _run_node(self, i: int) -> State:
        plan = self.plan
        task = plan.tasks[i]
        initial = self.task_states.get(task) if self.task_states else None
        resume = False
        if initial is not None:
            if isinstance(initial, Mapped) and plan.mapped[i]:
                # An earlier run's mapped task: its unfinished children run again.
                return await run_mapped(self, i, task, None, False, initial)
            if initial.is_finished():
                if self.restart is not None:
                    self.restart.replay(self.task_runner, task, initial)
                return initial
            resume = isinstance(initial, (Paused, Resume))
            initial = Pending(map_index=None) if resume else initial
        if plan.mapped[i]:
            return await run_mapped(self, i, task, initial, resume)
        upstream, inputs = self._node_args(i)
        state = await self.task_runner.run(task, upstream, inputs, None, initial, resume,
                                           self.states, i, plan.edges[i])
        if self.restart is not None and self.restart.notes:
            state = await self.restart.annotate(self.task_runner, task, i, None, state)
        return state

    # ---- ending -----------------------------------------------------------------------
    async def _cancel_all(self) -> None:
        """Cancel every task this run started and wait for them (handlers included)."""
        with anyio.CancelScope(shield=True):
            while self.live:
                pending = list(self.live)
                for t in pending:
                    t.cancel()
                await asyncio.wait(pending)
            for i, task in enumerate(self.plan.tasks):
                state = self.states[i]
                if state is None and not self._blocked[i]:
                    cancelled = Cancelled("Flow run was cancelled before this task ran.")
                    self.states[i] = await self.task_runner.shielded_transition(
                        task, Pending(), cancelled
                    )

    def _task_results(self) -> dict[Task[Any], State]:
        not_run = Pending("Task not run.")
        return {t: (s if s is not None else not_run) for t, s in zip(self.plan.tasks, self.states, strict=True)}

    def _final_state(self) -> State:
        results = self._task_results()
        states = self.states
        if any(type(s) is Paused for s in states):
            return Paused(
                "Some tasks are paused; run the flow again with "
                "task_states=state.result to resume them.",
                result=results,
            )
        for i in self.plan.reference:
            state = states[i]
            if state is None or not isinstance(state, (Success, Finished)) or isinstance(
                state, Failed
            ) or (isinstance(state, Mapped) and any(isinstance(c, Failed) for c in state.map_states)):
                return Failed("Some reference tasks failed.", result=results)
        return Success("All reference tasks succeeded.", result=results)


async def run_on_schedule(runner: FlowRunner) -> State:
    """Run ``runner``'s flow on every event of its schedule (see :mod:`asyncflow.schedules`)."""
    from ._scheduling import run_scheduled

    return await run_scheduled(runner)
