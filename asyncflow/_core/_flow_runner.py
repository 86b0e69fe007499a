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
import logging
import uuid
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ._attached import attached
from ._config import load_config
from ._context import FlowRunContext, flow_run_var
from ._exceptions import FlowDefinitionError, FlowRunError, ParameterError
from ._flow import _check_max_concurrency, flatten_value
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
    Skipped,
    State,
    Success,
    TimedOut,
)
from ._task_runner import Observer, TaskRunner

if TYPE_CHECKING:
    from ._edges import Edge
    from ._flow import Flow
    from ._task import Task

logger = logging.getLogger("asyncflow.engine")

_SPAWN_BATCH = 256
_NOT_RUN_YET = Pending("Child not run yet.")
_NO_STATES: list[State] = []


class _Plan:
    """The flow's graph as index lists, computed once per version of the flow."""

    __slots__ = (
        "constants",
        "downstream",
        "edges",
        "flattened",
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
        self.edges: list[list[Edge]] = [[e for e, _ in ie] for ie in self.in_edges]
        self.flattened = [any(e.flattened and not e.mapped for e, _ in ie)
                          for ie in self.in_edges]
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
    for name, value in given.items():
        declared[name].check_value(value)
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
            self._crashed(exc)  # the run re-raises it; this spawned task ends quietly
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
        if self.plan.flattened[i]:
            for edge, u in self.plan.in_edges[i]:
                if edge.flattened and edge.key is not None:
                    inputs[edge.key] = [s.result for s in _flattened(states[u])]
        return upstream, inputs

    async def _run_node(self, i: int) -> State:
        plan = self.plan
        task = plan.tasks[i]
        initial = self.task_states.get(task) if self.task_states else None
        resume = False
        if initial is not None:
            if isinstance(initial, Mapped) and plan.mapped[i]:
                # An earlier run's mapped task: its unfinished children run again.
                return await self._run_mapped(i, task, None, False, initial)
            if initial.is_finished():
                if self.restart is not None:
                    self.restart.replay(self.task_runner, task, initial)
                return initial
            resume = isinstance(initial, (Paused, Resume))
            initial = Pending(map_index=None) if resume else initial
        if plan.mapped[i]:
            return await self._run_mapped(i, task, initial, resume)
        upstream, inputs = self._node_args(i)
        state = await self.task_runner.run(task, upstream, inputs, None, initial, resume,
                                           self.states, i, plan.edges[i])
        if self.restart is not None and self.restart.notes:
            state = await self.restart.annotate(self.task_runner, task, i, None, state)
        return state

    # ---- mapping ---------------------------------------------------------------------
    async def _run_mapped(
        self, i: int, task: Task[Any], initial: State | None, resume: bool,
        prior: Mapped | None = None,
    ) -> State:
        """Run a mapped task: check its upstreams, then one child per element.

        As in Prefect 1.x, the parent checks only upstream skips and whether anything
        can be mapped over; each child then runs the task's trigger on its own upstream
        states (its element of every mapped upstream, the whole of the others).

        With ``prior``, the Mapped state of an earlier run, the children are those of
        that run: finished ones keep their states, the others run again (with whatever
        upstream values are available, else None).
        """
        runner = self.task_runner
        plan = self.plan
        states = self.states
        in_edges = plan.in_edges[i]
        edges = plan.edges[i]
        parent: State = initial if initial is not None else (prior or Pending())
        ups: list[State] = [states[u] for _, u in in_edges]  # type: ignore[misc]
        previous: list[State | None] = []
        if prior is None:
            if task.skip_on_upstream_skip and any(
                _is_skipped(s, e.mapped) for e, s in zip(edges, ups, strict=True)
            ):
                skipped = Skipped("Upstream task was skipped; if this was not the intent, "
                                  "set skip_on_upstream_skip=False.")
                return await runner.transition(task, parent, skipped)
            ready = self._map_inputs(i, task, edges, ups)
            if isinstance(ready, State):
                return await runner.transition(task, parent, ready)
            n, mapped_values, mapped_states = ready
        else:
            n = prior.n_map_states
            previous = [*prior.map_states, *([None] * (n - len(prior.map_states)))]
            ready = self._map_inputs(i, task, edges, ups)
            mapped_values, mapped_states = ({}, {}) if isinstance(ready, State) else ready[1:]
            for edge in edges:  # an input whose values are gone reads as None
                if edge.mapped and edge.key is not None:
                    mapped_values.setdefault(edge.key, [])

        restart = self.restart if prior is not None else None
        map_states: list[State] = [_NOT_RUN_YET] * n
        mapped_state = Mapped(f"Mapped {n} children.", n_map_states=n)
        mapped_state.map_states = map_states  # filled in place as children finish
        new = await runner.transition(task, parent, mapped_state)
        if new is not mapped_state:
            return new
        if n:
            mapped_keys = plan.mapped_keys[i] or set()
            fixed: dict[str, Any] = {k: v for k, v in (plan.constants[i] or {}).items()
                                     if k not in mapped_keys}
            for edge, state in zip(edges, ups, strict=True):
                if edge.key is not None and not edge.mapped:
                    if edge.flattened:
                        fixed[edge.key] = [c.result for c in _flattened(state)]
                    else:
                        fixed[edge.key] = state.result
            done = asyncio.Event()
            left = [n]

            async def child(k: int) -> None:
                inputs = dict(fixed)
                for key, values in mapped_values.items():
                    inputs[key] = values[k] if k < len(values) else None
                child_ups = list(ups)
                for j, children in mapped_states.items():
                    if k < len(children):
                        child_ups[j] = children[k]
                try:
                    map_states[k] = await runner.run(
                        task, child_ups, inputs, k, None, resume, map_states, k, edges
                    )
                    if restart is not None and restart.notes:
                        map_states[k] = await restart.annotate(runner, task, i, k,
                                                               map_states[k])
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:
                    self._crashed(exc)  # re-raised by the run, not by this spawned task
                    return
                finally:
                    self._live.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]
                left[0] -= 1
                if left[0] == 0:
                    done.set()

            for k in range(n):
                earlier = previous[k] if previous else None
                if earlier is not None and earlier.is_finished():
                    map_states[k] = earlier
                    if restart is not None:
                        restart.replay(runner, task, earlier)
                    left[0] -= 1
                    continue
                if k and not k % _SPAWN_BATCH:
                    await asyncio.sleep(0)
                self._spawn(child(k))
            if left[0]:
                await done.wait()
        mapped_state.result = [s.result for s in map_states]
        return mapped_state

    def _map_inputs(
        self, i: int, task: Task[Any], edges: list[Edge], ups: list[State]
    ) -> State | tuple[int, dict[str, list[Any]], dict[int, list[State]]]:
        """What node ``i``'s children get, or the Failed state that stops the mapping.

        Returns ``(n, values, states)``: the number of children, each mapped input's
        values by key, and for each mapped upstream that was itself mapped (by its
        position) the child states its children line up with.
        """
        plan = self.plan
        lengths: list[int] = []
        values: dict[str, list[Any]] = {}
        child_states: dict[int, list[State]] = {}
        constants = plan.constants[i] or {}
        mapped_keys = plan.mapped_keys[i] or ()
        can_map = bool(mapped_keys)
        for j, (edge, state) in enumerate(zip(edges, ups, strict=True)):
            if not edge.mapped or not state.is_successful():
                continue
            can_map = True
            if isinstance(state, Mapped):
                children = _flattened(state) if edge.flattened else list(state.map_states)
                child_states[j] = children
                lengths.append(len(children))
                if edge.key is not None:
                    values[edge.key] = [c.result for c in children]
                continue
            result = state.result
            if edge.flattened:
                result = flatten_value(result)
            try:
                seq = list(result)
            except TypeError:
                if isinstance(state, Skipped):  # even with skip_on_upstream_skip=False
                    return Skipped(f"Upstream task {edge.upstream_task.name!r} was skipped, "
                                   "so there is nothing to map over.")
                why = _MapError(
                    f"Task {task.name!r} cannot map over the result of "
                    f"{edge.upstream_task.name!r} ({type(result).__name__}), which is not "
                    "iterable; return a list from it, or wrap it as unmapped(...)"
                )
                return Failed(_UNMAPPABLE, result=why)
            if edge.key is not None:
                values[edge.key] = seq
            lengths.append(len(seq))
        if edges and not can_map:
            return Failed(_NOTHING_TO_MAP, result=_MapError(
                f"Task {task.name!r} cannot be mapped: no upstream it maps over succeeded"))
        for key in mapped_keys:
            seq = values[key] = list(constants[key])  # the flow's own value is not changed
            lengths.append(len(seq))
        return (min(lengths) if lengths else 0), values, child_states

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


class _MapError(FlowRunError):
    """Why a mapped task could not be mapped (the result of its Failed state)."""


_NOTHING_TO_MAP = "No upstream states can be mapped over."
_UNMAPPABLE = "At least one upstream state has an unmappable result."


def _is_skipped(state: State, by_mapped_edge: bool) -> bool:
    if isinstance(state, Mapped) and not by_mapped_edge:
        return any(isinstance(c, Skipped) for c in state.map_states)
    return isinstance(state, Skipped)


def _flattened(state: State) -> list[State]:
    """The states a flattened edge carries from ``state``, one per element.

    A mapped upstream's children are flattened one level: a successful child whose
    result is a sequence gives one state per item; one whose result is not (logged) and a
    failed or skipped child give themselves. Another upstream's result list is
    flattened when every element is iterable, and otherwise passed unchanged.
    """
    if not isinstance(state, Mapped):
        flat = state.copy()
        flat.result = flatten_value(state.result)
        return [flat]  # the caller reads .result: the whole flattened list
    out: list[State] = []
    for child in state.map_states:
        if not child.is_successful() or child.is_skipped():
            out.append(child)
            continue
        value = child.result
        if not (hasattr(value, "__len__") and hasattr(value, "__getitem__")):
            logger.warning(
                "`flatten` was used on upstream task that did not return an iterable "
                "(a child returned %s); the value is passed downstream unchanged.",
                type(value).__name__,
            )
            out.append(child)
            continue
        for item in value:
            element = child.copy()
            element.result = item
            out.append(element)
    return out


async def run_on_schedule(runner: FlowRunner) -> State:
    """Run ``runner``'s flow on every event of its schedule (see :mod:`asyncflow.schedules`)."""
    from ._scheduling import run_scheduled

    return await run_scheduled(runner)
