"""Flows: a graph of tasks, built functionally or imperatively, and run as a whole.

::

    with Flow("etl") as flow:
        raw = extract(url)
        table = transform(raw)
        load(table, upstream_tasks=[check])

    state = await flow.run(parameters={"url": "..."})
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import _flow_editing
from ._attached import attached
from ._blocks import NotAReferenceTask, notify_blocks, open_blocks_var
from ._collections import collection_task
from ._edges import Edge, EdgeAnnotation, building_flow_var, flatten, mapped as mapped_marker
from ._exceptions import CycleError, FlowDefinitionError, FlowRunError
from ._options import convert_result_handler, handler_list
from ._parameter import Parameter
from ._run_call import RunCall, refuse_inside_running_loop
from ._run_cancel import run_cancellable
from ._task import Task

if TYPE_CHECKING:
    from contextvars import Token

    from .._results._base import Result
    from ..history import Recorder
    from ._executor import Executor
    from ._schedules import Schedule
    from ._states import State


class Flow:
    """A named graph of tasks.

    ``state_handlers`` and ``on_failure`` work as on tasks, for the flow's own states.
    ``result`` is the default Result for tasks that set none. ``reference_tasks`` decide
    the flow's final state (default: the terminal tasks). ``schedule``, ``executor`` and
    ``max_concurrency`` set defaults for :meth:`run`.
    """

    def __init__(
        self,
        name: str,
        tasks: Iterable[Task[Any]] | None = None,
        edges: Iterable[Edge] | None = None,
        *,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
        result: Result | None = None,
        reference_tasks: Iterable[Task[Any]] | None = None,
        schedule: Schedule | None = None,
        executor: Executor | None = None,
        max_concurrency: int | None = None,
        result_handler: Any = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise FlowDefinitionError(f"a flow needs a non-empty string name, got {name!r}")
        self.name = name
        owner = f"flow {name!r}"
        self.state_handlers = handler_list(state_handlers, on_failure, owner)
        self.result = convert_result_handler(result, result_handler, owner)
        if schedule is not None:
            from ._schedules import Schedule

            if not isinstance(schedule, Schedule):
                raise FlowDefinitionError(
                    f"{owner}: schedule must be an IntervalSchedule or CronSchedule from "
                    f"asyncflow.schedules, got {schedule!r}"
                )
        self.schedule = schedule
        self.executor = executor
        if max_concurrency is not None:
            _check_max_concurrency(max_concurrency)
        self.max_concurrency = max_concurrency
        self._tasks: dict[Task[Any], None] = {}
        self._edges: dict[Edge, None] = {}
        self._upstream: dict[Task[Any], list[Edge]] = {}
        self._downstream: dict[Task[Any], list[Edge]] = {}
        self.constants: dict[Task[Any], dict[str, Any]] = {}
        self.mapped_constants: dict[Task[Any], set[str]] = {}
        self._mapped: set[Task[Any]] = set()
        self._slugs: dict[str, Task[Any]] = {}
        self._generated_slugs: set[Task[Any]] = set()
        self._name_counts: dict[str, int] = {}
        self._parameters: dict[str, Parameter] = {}
        self._reference_tasks: set[Task[Any]] = set()
        self._tokens: list[Token[Flow | None]] = []
        self._version = 0
        self._plan: Any = None
        for t in tasks or ():
            self.add_task(t)
        for e in edges or ():
            self.add_edge(e.upstream_task, e.downstream_task, key=e.key, mapped=e.mapped,
                          flattened=e.flattened)
        if reference_tasks is not None:
            self.set_reference_tasks(reference_tasks)

    # ---- the `with` block ------------------------------------------------------------
    def __enter__(self) -> Flow:
        self._tokens.append(building_flow_var.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        building_flow_var.reset(self._tokens.pop())

    # ---- reading the graph ---------------------------------------------------------------
    @property
    def tasks(self) -> set[Task[Any]]:
        """Every task of the flow."""
        return set(self._tasks)

    @property
    def edges(self) -> set[Edge]:
        """Every edge of the flow."""
        return set(self._edges)

    def iter_tasks(self) -> Iterator[Task[Any]]:
        """The tasks in the order they were added."""
        return iter(self._tasks)

    def __iter__(self) -> Iterator[Task[Any]]:
        """The tasks in a dependency order, as :meth:`sorted_tasks`."""
        return iter(self.sorted_tasks())

    def get_tasks(self, name: str | None = None, slug: str | None = None,
                  tags: Iterable[str] | None = None,
                  task_type: type | tuple[type, ...] | None = None) -> list[Task[Any]]:
        """The tasks matching every given criterion, in the order they were added."""
        wanted_tags = set(tags or ())
        return [
            t for t in self._tasks
            if (name is None or t.name == name)
            and (slug is None or t.slug == slug)
            and wanted_tags <= t.tags
            and (task_type is None or isinstance(t, task_type))
        ]

    def upstream_tasks(self, task: Task[Any]) -> set[Task[Any]]:
        """The tasks ``task`` directly depends on."""
        return {e.upstream_task for e in self.edges_to(task)}

    def downstream_tasks(self, task: Task[Any]) -> set[Task[Any]]:
        """The tasks that directly depend on ``task``."""
        return {e.downstream_task for e in self.edges_from(task)}

    def edges_to(self, task: Task[Any]) -> list[Edge]:
        """The edges into ``task``, in the order they were added."""
        self._check_member(task)
        return list(self._upstream.get(task, ()))

    def edges_from(self, task: Task[Any]) -> list[Edge]:
        """The edges out of ``task``, in the order they were added."""
        self._check_member(task)
        return list(self._downstream.get(task, ()))

    def _check_member(self, task: Any) -> None:
        if task not in self._tasks:
            raise FlowDefinitionError(
                f"task {task!r} is not in flow {self.name!r}; add it with "
                "flow.add_task(...) first, or look it up with flow.get_tasks(name=...)"
            )

    def is_mapped(self, task: Task[Any]) -> bool:
        """Whether ``task`` was added with ``.map``."""
        return task in self._mapped

    def parameters(self) -> dict[str, Parameter]:
        """The flow's parameters by name."""
        return dict(self._parameters)

    def terminal_tasks(self) -> set[Task[Any]]:
        """Tasks nothing depends on."""
        return {t for t in self._tasks if not self._downstream.get(t)}

    def root_tasks(self) -> set[Task[Any]]:
        """Tasks that depend on nothing."""
        return {t for t in self._tasks if not self._upstream.get(t)}

    def reference_tasks(self) -> set[Task[Any]]:
        """The tasks whose states decide the flow's final state.

        By default the terminal tasks, where a resource's cleanup task does not count:
        the tasks that only it follows are terminal in its place.
        """
        if self._reference_tasks:
            return set(self._reference_tasks)
        skip = NotAReferenceTask
        return {t for t in self._tasks if not isinstance(t, skip) and all(
            isinstance(e.downstream_task, skip) for e in self._downstream.get(t, ()))}

    def set_reference_tasks(self, tasks: Iterable[Task[Any]]) -> None:
        """Judge the final state by ``tasks`` (of this flow) instead of the terminal tasks."""
        tasks = set(tasks)
        unknown = [t for t in tasks if t not in self._tasks]
        if unknown:
            raise FlowDefinitionError(
                f"flow {self.name!r}: reference tasks {unknown} are not in the flow; add them first"
            )
        self._reference_tasks = tasks

    # ---- building ------------------------------------------------------------------
    def add_task(self, task: Task[Any]) -> Task[Any]:
        """Add a task (idempotent) and return it."""
        if task in self._tasks:
            return task
        if not isinstance(task, Task):
            raise FlowDefinitionError(
                f"flow {self.name!r}: {task!r} is not a Task; decorate functions with @task"
            )
        if isinstance(task, Parameter):
            other = self._parameters.get(task.name)
            if other is not None and other is not task:
                raise FlowDefinitionError(
                    f"flow {self.name!r} already has a parameter named {task.name!r}; "
                    "parameter names must be unique (reuse the same Parameter object)"
                )
            self._parameters[task.name] = task
        if task.slug is None:
            count = self._name_counts.get(task.name, 0) + 1
            slug = f"{task.name}-{count}"
            while slug in self._slugs:
                count += 1
                slug = f"{task.name}-{count}"
            self._name_counts[task.name] = count
            task.slug = slug
            self._generated_slugs.add(task)
        elif task.slug in self._slugs:
            raise FlowDefinitionError(
                f"flow {self.name!r} already has a task with slug {task.slug!r}; slugs are unique"
            )
        self._slugs[task.slug] = task
        self._tasks[task] = None
        self._version += 1
        if open_blocks_var.get():  # inside `with case(...)` or a resource block
            notify_blocks(task, self)
        return task

    def add_edge(
        self,
        upstream_task: Any,
        downstream_task: Task[Any],
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool | None = None,
    ) -> Edge:
        """Make ``downstream_task`` depend on ``upstream_task``, passing its result as ``key``.

        ``upstream_task`` may be wrapped in ``mapped``, ``unmapped`` or ``flatten``. An edge
        that would close a cycle is always refused at once (:class:`CycleError`);
        ``validate=True`` also runs :meth:`validate` afterwards.
        """
        if upstream_task is downstream_task:
            raise CycleError(
                f"flow {self.name!r}: Edges can not connect a task to itself: task "
                f"{getattr(upstream_task, 'name', upstream_task)!r} cannot depend on itself"
            )
        edge = Edge(upstream_task, downstream_task, key=key, mapped=mapped, flattened=flattened)
        upstream_task = edge.upstream_task
        if not isinstance(upstream_task, Task):
            raise FlowDefinitionError(
                f"flow {self.name!r}: an edge needs tasks on both ends, got {upstream_task!r}; "
                "pass plain values as task arguments instead"
            )
        if key is not None:
            for existing in self._upstream.get(downstream_task, ()):
                if existing.key == key:
                    raise FlowDefinitionError(
                        f"flow {self.name!r}: task {downstream_task.name!r} already receives "
                        f"argument {key!r} from {existing.upstream_task.name!r}"
                    )
            self.constants.get(downstream_task, {}).pop(key, None)
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        if edge in self._edges:
            return edge
        # A cycle appears only if upstream is already reachable from downstream.
        if self._downstream.get(downstream_task):
            path = self._path(downstream_task, upstream_task)
            if path is not None:
                names = " -> ".join(t.slug or t.name for t in [upstream_task, *path])
                raise CycleError(
                    f"flow {self.name!r}: adding {upstream_task.slug} -> {downstream_task.slug} "
                    f"would make a cycle: {names}. Remove one of these dependencies."
                )
        self._edges[edge] = None
        self._upstream.setdefault(downstream_task, []).append(edge)
        self._downstream.setdefault(upstream_task, []).append(edge)
        if edge.mapped:
            self._mapped.add(downstream_task)
        self._version += 1
        if validate:
            self.validate()
        return edge

    def _path(self, start: Task[Any], goal: Task[Any]) -> list[Task[Any]] | None:
        """A path start -> ... -> goal along downstream edges, or None."""
        parents: dict[Task[Any], Task[Any] | None] = {start: None}
        stack = [start]
        while stack:
            node = stack.pop()
            if node is goal:
                path = [node]
                while (parent := parents[path[-1]]) is not None:
                    path.append(parent)
                return list(reversed(path))
            for edge in self._downstream.get(node, ()):
                nxt = edge.downstream_task
                if nxt not in parents:
                    parents[nxt] = node
                    stack.append(nxt)
        return None

    def set_dependencies(
        self,
        task: Task[Any],
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: Mapping[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> None:
        """Wire ``task``: state-only edges from ``upstream_tasks`` and to
        ``downstream_tasks``, data edges from the Task values of ``keyword_tasks`` (other
        values become constants).

        With ``mapped=True`` the task is mapped over its inputs and upstream tasks, except
        those wrapped in ``unmapped``; in an ordinary call, an input wrapped in ``mapped``
        is mapped over. A value given in ``upstream_tasks`` that is not a task becomes a
        :class:`~asyncflow.tasks.Constant`. A task with no mapped input runs once.
        Cycles are refused as each edge is added; ``validate=True`` also runs
        :meth:`validate` at the end.
        """
        self.add_task(task)
        for up in upstream_tasks or ():
            is_mapped, flattened, value = _annotations(up, mapped)
            up_task = self._as_task(value, "upstream_tasks")
            self.add_edge(up_task, task, mapped=is_mapped, flattened=flattened)
        for down in downstream_tasks or ():
            down_task = self._as_task(down, "downstream_tasks")
            self.add_edge(task, down_task)
        for key, raw in (keyword_tasks or {}).items():
            is_mapped, flattened, value = _annotations(raw, mapped)
            value = collection_task(value, self)
            if isinstance(value, Task):
                self.add_edge(value, task, key=key, mapped=is_mapped, flattened=flattened)
                continue
            if flattened:
                value = flatten_value(value)
            if is_mapped:
                try:
                    iter(value)
                except TypeError:
                    raise FlowDefinitionError(
                        f"task {task.name!r}: cannot map over {key}={value!r}, which is not "
                        f"iterable; pass a list, or wrap it as unmapped({value!r}) to give "
                        "it whole to every child"
                    ) from None
                self.mapped_constants.setdefault(task, set()).add(key)
                self._mapped.add(task)
            self.constants.setdefault(task, {})[key] = value
            self._version += 1
        if validate:
            self.validate()

    def _as_task(self, value: Any, option: str) -> Task[Any]:
        if isinstance(value, Task):
            return value
        value = collection_task(value, self)
        if isinstance(value, Task):
            return value
        if callable(value) and not isinstance(value, (list, tuple, set, dict)):
            raise FlowDefinitionError(
                f"flow {self.name!r}: {option} takes tasks, got the callable {value!r}; "
                "decorate it with @task and call it in the flow"
            )
        from ._constant import Constant

        return self.add_task(Constant(value))

    # ---- editing (asyncflow/_core/_flow_editing.py) ----------------------------------
    def replace(self, old: Task[Any], new: Any, validate: bool = True) -> None:
        """Put ``new`` (a task, or a value made a Constant) in the place of ``old``, with
        its edges, constant inputs and reference status; all or nothing."""
        _flow_editing.replace(self, old, new, validate=validate)

    def update(self, flow: Flow, merge_parameters: bool = False,
               validate: bool | None = None) -> None:
        """Add the tasks, edges and constant inputs of another flow; all or nothing.
        ``merge_parameters=True`` uses the other flow's Parameter where both have one."""
        _flow_editing.update(self, flow, merge_parameters=merge_parameters, validate=validate)

    def chain(self, *tasks: Task[Any], validate: bool | None = None) -> list[Edge]:
        """Make each task depend on the one before it; returns the edges. All or nothing."""
        return _flow_editing.chain(self, *tasks, validate=validate)

    # ---- checks ------------------------------------------------------------------
    def sorted_tasks(self, root_tasks: Iterable[Task[Any]] | None = None) -> list[Task[Any]]:
        """The tasks in a dependency order; raises CycleError naming a cycle if there is one.

        With ``root_tasks``, only those tasks and the tasks downstream of them.
        """
        if root_tasks is None:
            indegree = {t: len(self._upstream.get(t, ())) for t in self._tasks}
        else:
            indegree = _flow_editing.indegree_below(self, root_tasks)
        ready = [t for t, n in indegree.items() if n == 0]
        order: list[Task[Any]] = []
        while ready:
            node = ready.pop()
            order.append(node)
            for edge in self._downstream.get(node, ()):
                nxt = edge.downstream_task
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
        if len(order) != len(indegree):
            left = [t for t, n in indegree.items() if n > 0]
            cycle = self._find_cycle(left)
            names = " -> ".join(t.slug or t.name for t in cycle)
            raise CycleError(f"flow {self.name!r} has a cycle: {names}. Remove one of these dependencies.")
        return order

    def _find_cycle(self, candidates: list[Task[Any]]) -> list[Task[Any]]:
        for start in candidates:
            for edge in self._downstream.get(start, ()):
                path = self._path(edge.downstream_task, start)
                if path is not None:
                    return [start, *path]
        return candidates

    def validate(self) -> None:
        """Check the flow: no cycle, edges and reference tasks point at its tasks."""
        for edge in self._edges:
            for t in (edge.upstream_task, edge.downstream_task):
                if t not in self._tasks:
                    raise FlowDefinitionError(f"flow {self.name!r}: edge {edge} names a task not in the flow")
        for t in self._reference_tasks:
            if t not in self._tasks:
                raise FlowDefinitionError(f"flow {self.name!r}: reference task {t} is not in the flow")
        self.sorted_tasks()

    # ---- copies ------------------------------------------------------------------
    def copy(self) -> Flow:
        """A new flow with the same tasks and edges (the task objects are shared)."""
        new = Flow.__new__(Flow)
        new.__dict__.update(self.__dict__)
        new._tasks = dict(self._tasks)
        new._edges = dict(self._edges)
        new._upstream = {k: list(v) for k, v in self._upstream.items()}
        new._downstream = {k: list(v) for k, v in self._downstream.items()}
        new.constants = {k: dict(v) for k, v in self.constants.items()}
        new.mapped_constants = {k: set(v) for k, v in self.mapped_constants.items()}
        new._mapped = set(self._mapped)
        new._slugs = dict(self._slugs)
        new._generated_slugs = set(self._generated_slugs)
        new._name_counts = dict(self._name_counts)
        new._parameters = dict(self._parameters)
        new._reference_tasks = set(self._reference_tasks)
        new._tokens = []
        new._plan = None
        return new

    # ---- running ------------------------------------------------------------------
    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        task_states: Mapping[Task[Any], State] | None = None,
        timeout: float | datetime.timedelta | None = None,
        max_concurrency: int | None = None,
        task_concurrency_limits: Mapping[str, int] | None = None,
        checkpointing: bool | None = None,
        executor: Executor | None = None,
        run_on_schedule: bool = False,
        observers: Iterable[Callable[..., Any]] = (),
        history: str | bool | Recorder | None = None,
        restart_from: int | str | None = None,
    ) -> Coroutine[Any, Any, State]:
        """Run the flow and return its final state; ``state.result`` maps each task to its state.

        A coroutine: ``state = await flow.run()`` in async code, ``asyncio.run(flow.run())``
        or :meth:`run_sync` from synchronous code. Using the returned object as a state
        without awaiting it raises :class:`~asyncflow.FlowRunError` with the fix.

        - ``parameters``: values for the flow's Parameters.
        - ``context``: extra context keys (e.g. ``{"secrets": {...}}``).
        - ``task_states``: states from an earlier run; finished tasks are not run again,
          paused ones resume.
        - ``timeout``: bound on the whole run (unfinished tasks end Cancelled, the flow TimedOut).
        - ``max_concurrency``: bound on simultaneously running task bodies.
        - ``task_concurrency_limits``: ``{"tag": n}`` bounds on tasks carrying a tag,
          shared by every run in the process.
        - ``checkpointing``: force result persistence on or off for this run.
        - ``executor``: where task bodies run (default: the flow's, else
          :class:`~asyncflow.executors.LocalExecutor`).
        - ``run_on_schedule``: run on every event of the flow's schedule until cancelled.
        - ``observers``: callables ``(obj, old_state, new_state)`` told of every transition
          of every task and of the flow, on the loop (they must not block). An observer
          with async ``open()`` / ``close()`` methods is opened before the run and closed
          after it.
        - ``history``: record the run (a database URL, a recorder, True for the default
          SQLite file, False for off); by default on when ``history.url`` is configured.
        - ``restart_from``: a recorded run to finish (its history run number, its
          ``flow_run_id``, or ``"last"`` for the flow's latest failed or crashed run):
          its succeeded task runs are kept, the rest run; see ``docs/restart.md``.
        """
        building = building_flow_var.get()
        if building is not None:
            raise FlowRunError(
                f"flow.run() was called inside a `with Flow(...)` block (building "
                f"{building.name!r}); finish building the flow, then run it after the block"
            )
        options: dict[str, Any] = {
            "context": context, "task_states": task_states, "timeout": timeout,
            "max_concurrency": max_concurrency,
            "task_concurrency_limits": task_concurrency_limits,
            "checkpointing": checkpointing, "executor": executor,
            "run_on_schedule": run_on_schedule, "observers": observers, "history": history,
        }
        if restart_from is not None:
            options["restart_from"] = restart_from
        return RunCall(functools.partial(self._run, parameters, **options), "flow.run()",
                       "flow.run_sync()")

    async def _run(self, parameters: Mapping[str, Any] | None, *,
                   run_on_schedule: bool = False, **options: Any) -> State:
        from ._flow_runner import FlowRunner, run_on_schedule as scheduled_runs

        runner = FlowRunner(self, parameters=parameters, **options)
        if run_on_schedule and runner.restart_from is not None:
            raise FlowRunError("restart_from restarts one run; it cannot be combined with "
                               "run_on_schedule=True")
        if run_on_schedule:
            return await scheduled_runs(runner)
        return await run_cancellable(runner)

    def run_sync(self, parameters: Mapping[str, Any] | None = None, **options: Any) -> State:
        """Run the flow from synchronous code (a script, a notebook cell, a thread).

        Takes the same arguments as :meth:`run`. Inside a running event loop use
        ``await flow.run(...)`` instead.
        """
        import anyio

        refuse_inside_running_loop(
            "flow.run_sync() was called inside a running event loop, where it would "
            "block that loop; use `state = await flow.run(...)` instead"
        )
        return anyio.run(functools.partial(self._run, parameters, **options), backend="asyncio")

    def visualize(self, filename: str | None = None, format: str | None = None,  # noqa: A002
                  flow_state: State | None = None) -> str:
        """Draw the DAG: SVG (the default), DOT or Mermaid text, or a PNG file.

        The format comes from ``format`` or the file name's extension; with a
        ``flow_state`` nodes are coloured by the state of each task. Returns the text,
        or for PNG the path written. See :mod:`asyncflow.visualization`.
        """
        return str(attached.render_flow(self, filename=filename, format=format,
                                        flow_state=flow_state))

    def __repr__(self) -> str:
        return f"<Flow: name={self.name}>"


def _annotations(value: Any, mapped: bool) -> tuple[bool, bool, Any]:
    """``(mapped, flattened, value)`` for an input, its ``mapped``/``unmapped``/``flatten``
    wrappers (outermost first) deciding over the call's ``mapped``."""
    is_mapped = mapped
    flattened = False
    seen_mapping = False
    while isinstance(value, EdgeAnnotation):
        if isinstance(value, flatten):
            flattened = True
        elif not seen_mapping:
            is_mapped = isinstance(value, mapped_marker)
            seen_mapping = True
        value = value.value
    return is_mapped, flattened, value


def flatten_value(value: Any) -> Any:
    """A list of lists flattened by one level; any other value unchanged."""
    try:
        return [item for sub in value for item in sub]
    except TypeError:
        return value


def _check_max_concurrency(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FlowDefinitionError(
            f"max_concurrency must be an int >= 1, got {value!r}; leave it unset for no bound"
        )
