"""Running a flow: the DAG scheduler.

Each task runs as soon as its last upstream finishes. A node that finishes runs one of
the tasks it made ready itself (so a chain costs no task spawns) and spawns the others
as asyncio tasks; mapped children are spawned the same way. Every task the run starts
is tracked, and cancelled and awaited before :meth:`FlowRunner.run` returns or raises,
so nothing is left running.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ._config import load_config
from ._context import FlowRunContext, flow_run_var
from ._exceptions import FlowDefinitionError, ParameterError
from ._flow import _check_max_concurrency
from ._limits import Limiter, tag_limiters
from ._options import to_seconds
from ._parameter import Parameter
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
    from ._edges import Edge
    from ._flow import Flow
    from ._task import Task

_SPAWN_BATCH = 256
_NOT_RUN_YET = Pending("Child not run yet.")
_NO_STATES: list[State] = []


class _Plan:
    """The flow's graph as index lists, computed once per version of the flow."""

    __slots__ = (
        "constants",
        "downstream",
        "has_edges",
        "in_edges",
        "index",
        "mapped",
        "mapped_keys",
        "n_up",
        "reference",
        "targeted",
        "tasks",
        "version",
    )

    def __init__(self, flow: Flow) -> None:
        self.version = flow._version
        order = flow.sorted_tasks()
        self.tasks: list[Task[Any]] = order
        self.index: dict[Task[Any], int] = {t: i for i, t in enumerate(order)}
        index = self.index
        self.in_edges: list[list[tuple[Edge, int]]] = []
        self.downstream: list[list[int]] = []
        self.n_up: list[int] = []
        for t in order:
            edges = flow._upstream.get(t, ())
            self.in_edges.append([(e, index[e.upstream_task]) for e in edges])
            self.n_up.append(len({index[e.upstream_task] for e in edges}))
            downs: dict[int, None] = {}
            for e in flow._downstream.get(t, ()):
                downs[index[e.downstream_task]] = None
            self.downstream.append(list(downs))
        self.has_edges = [bool(e) for e in self.in_edges]
        self.mapped = [t in flow._mapped for t in order]
        self.constants = [flow.constants.get(t) for t in order]
        self.mapped_keys = [flow.mapped_constants.get(t) for t in order]
        self.reference = [index[t] for t in flow.reference_tasks()]
        self.targeted = [t for t in order if t.target is not None]


def plan_for(flow: Flow) -> _Plan:
    plan = flow._plan
    if plan is None or plan.version != flow._version:
        plan = flow._plan = _Plan(flow)
    return plan  # type: ignore[no-any-return]


def resolve_parameters(flow: Flow, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's parameter values; unknown or missing required ones raise ParameterError."""
    declared: dict[str, Parameter] = flow._parameters
    given = dict(given or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(
            f"flow {flow.name!r} got unknown parameters {unknown}; "
            f"its parameters are {sorted(declared) or 'none'}"
        )
    missing = sorted(n for n, p in declared.items() if p.required and n not in given)
    if missing:
        raise ParameterError(
            f"flow {flow.name!r} is missing required parameters {missing}; pass them as "
            f"flow.run(parameters={{{', '.join(repr(m) + ': ...' for m in missing)}}})"
        )
    values = {n: p.default for n, p in declared.items() if not p.required}
    values.update(given)
    return values


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
    ) -> None:
        self.flow = flow
        self.history = history
        self.options: dict[str, Any] = {
            "parameters": parameters, "context": context, "task_states": task_states,
            "timeout": timeout, "max_concurrency": max_concurrency,
            "task_concurrency_limits": task_concurrency_limits,
            "checkpointing": checkpointing, "executor": executor, "observers": observers,
            "history": history,
        }
        self.plan = plan_for(flow)
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
        self._live: set[asyncio.Task[Any]] = set()
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
        """The run's observers, plus the history recorder when history is on."""
        observers = list(self.options["observers"])
        history = self.history
        if history is False:
            return observers
        if history is None or history is True:
            url = str(config.get_path("history.url") or "")
            if not url and history is True:
                url = "sqlite:///~/.asyncflow/history.db"
            history = url or None
        if isinstance(history, str):
            from .._history._recorder import recorder_for

            observers.append(recorder_for(history))
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
    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._live.add(self._loop.create_task(coro))

    def _crashed(self, exc: BaseException) -> None:
        """An engine bug: stop waiting, so the run cancels everything and re-raises it."""
        if self._crash is None:
            self._crash = exc
        self._done.set()

    async def _spawn_nodes(self, nodes: Sequence[int]) -> None:
        for k, i in enumerate(nodes):
            if k and not k % _SPAWN_BATCH:
                await asyncio.sleep(0)  # let spawned no-op tasks finish: bounded memory
            self._spawn(self._drive(i))

    # ---- nodes ----------------------------------------------------------------------
    async def _drive(self, i: int) -> None:
        """Run node ``i``, then whatever it made ready: one inline, the rest spawned."""
        plan = self.plan
        remaining = self._remaining
        states = self.states
        runner = self.task_runner
        try:
            while True:
                if plan.mapped[i] or self.task_states:
                    state = await self._run_node(i)
                else:
                    upstream, inputs = self._node_args(i)
                    state = await runner.run(plan.tasks[i], upstream, inputs, None, None,
                                             False, states, i)
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
            self._crashed(exc)
            raise
        finally:
            self._live.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]

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
        return upstream, inputs

    async def _run_node(self, i: int) -> State:
        plan = self.plan
        task = plan.tasks[i]
        initial = self.task_states.get(task) if self.task_states else None
        resume = False
        if initial is not None:
            if initial.is_finished():
                return initial
            resume = isinstance(initial, (Paused, Resume))
            initial = Pending(map_index=None) if resume else initial
        if plan.mapped[i]:
            return await self._run_mapped(i, task, initial, resume)
        upstream, inputs = self._node_args(i)
        return await self.task_runner.run(task, upstream, inputs, None, initial, resume,
                                          self.states, i)

    # ---- mapping ---------------------------------------------------------------------
    async def _run_mapped(
        self, i: int, task: Task[Any], initial: State | None, resume: bool
    ) -> State:
        runner = self.task_runner
        plan = self.plan
        states = self.states
        in_edges = plan.in_edges[i]
        parent: State = initial if initial is not None else Pending()
        ups = [states[u] for _, u in in_edges]
        if any(not s.is_successful() for s in ups):  # type: ignore[union-attr]
            refused = runner._check_upstream(task, ups, None, resume)  # type: ignore[arg-type]
            if refused is not None:
                return await runner.transition(task, parent, refused)
        try:
            n, mapped_values = self._mapped_inputs(i, task)
        except _MapError as exc:
            failed = Failed(str(exc), result=exc)
            return await runner.transition(task, parent, failed)

        map_states: list[State] = [_NOT_RUN_YET] * n
        mapped_state = Mapped(f"Mapped {n} children.")
        mapped_state.map_states = map_states  # filled in place as children finish
        new = await runner.transition(task, parent, mapped_state)
        if new is not mapped_state:
            return new
        if n:
            mapped_keys = plan.mapped_keys[i] or set()
            fixed: dict[str, Any] = {k: v for k, v in (plan.constants[i] or {}).items()
                                     if k not in mapped_keys}
            for edge, u in in_edges:
                if edge.key is not None and not edge.mapped:
                    fixed[edge.key] = states[u].result  # type: ignore[union-attr]
            done = asyncio.Event()
            left = [n]

            async def child(k: int) -> None:
                inputs = dict(fixed)
                for key, values in mapped_values.items():
                    inputs[key] = values[k]
                child_ups: list[State] = []
                for edge, u in in_edges:
                    s = states[u]
                    if edge.mapped and not edge.flattened and isinstance(s, Mapped):
                        child_ups.append(s.map_states[k])
                    else:
                        child_ups.append(s)  # type: ignore[arg-type]

                try:
                    map_states[k] = await runner.run(
                        task, child_ups, inputs, k, None, resume, map_states, k
                    )
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:
                    self._crashed(exc)
                    raise
                finally:
                    self._live.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]
                left[0] -= 1
                if left[0] == 0:
                    done.set()

            for k in range(n):
                if k and not k % _SPAWN_BATCH:
                    await asyncio.sleep(0)
                self._spawn(child(k))
            await done.wait()
        mapped_state.result = [s.result for s in map_states]
        return mapped_state

    def _mapped_inputs(self, i: int, task: Task[Any]) -> tuple[int, dict[str, list[Any]]]:
        plan = self.plan
        lengths: list[int] = []
        values: dict[str, list[Any]] = {}
        for edge, u in plan.in_edges[i]:
            if not edge.mapped:
                continue
            upstream_value = self.states[u].result  # type: ignore[union-attr]
            try:
                seq = list(upstream_value)
            except TypeError:
                raise _MapError(
                    f"Task {task.name!r} cannot map over the result of "
                    f"{edge.upstream_task.name!r} ({type(upstream_value).__name__}), which is "
                    "not iterable; return a list from it, or wrap it as unmapped(...)"
                ) from None
            if edge.flattened:
                try:
                    seq = [item for sub in seq for item in sub]
                except TypeError:
                    raise _MapError(
                        f"Task {task.name!r} cannot flatten the result of "
                        f"{edge.upstream_task.name!r}: its elements are not all iterable"
                    ) from None
            if edge.key is not None:
                values[edge.key] = seq
            lengths.append(len(seq))
        constants = plan.constants[i] or {}
        for key in plan.mapped_keys[i] or ():
            seq = values[key] = list(constants[key])  # the flow's own value is not changed
            lengths.append(len(seq))
        return (min(lengths) if lengths else 0), values

    # ---- ending -----------------------------------------------------------------------
    async def _cancel_all(self) -> None:
        """Cancel every task this run started and wait for them (handlers included)."""
        with anyio.CancelScope(shield=True):
            while self._live:
                pending = list(self._live)
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


class _MapError(Exception):
    pass


async def run_on_schedule(runner: FlowRunner) -> State:
    """Run ``runner``'s flow on every event of its schedule (see :mod:`asyncflow.schedules`)."""
    from ._scheduling import run_scheduled

    return await run_scheduled(runner)
