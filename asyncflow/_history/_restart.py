"""Restarting a recorded flow run: which run, whether it can be, and what is kept.

``flow.run(restart_from=RUN)`` calls :func:`plan_restart` before anything runs. It finds
``RUN`` in the history (a run number, a ``flow_run_id``, or ``"last"``: the flow's latest
failed or crashed run), refuses what cannot be restarted with a :class:`RestartError`
that says why (another flow's run, a run still going, a changed graph, nothing recorded),
and turns the run's recorded task runs into the ``task_states`` the engine resumes from:

- a task run that ended ``Success``, ``Cached``, ``Skipped`` or ``Mapped`` is kept: its
  state comes back with its result's location, and its value is read (see
  :mod:`._restart_values`) only if a task that runs needs it;
- a mapped task is kept child by child: its failed or unfinished children run again;
- tasks downstream of a parameter whose value changed run again;
- everything else runs again.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core._parameter import Parameter, resolve_parameters
from .._core._states import Failed, Mapped, Pending, State, Success
from ._errors import RestartError, RunNotFoundError
from ._graph_diff import Edge, check_same_graph, recorded_edges
from ._records import FlowRunRecord, TaskRunRecord, _state_class, _state_classes
from ._restart_values import Kept, settle_values
from ._store import HistoryStore, display_url, store_for

if TYPE_CHECKING:
    from .._core._flow import Flow
    from .._core._plan import _Plan
    from .._core._task import Task

logger = logging.getLogger("asyncflow.history")

#: What ``restart_from`` names: a run number, a flow_run_id, or the flow's last failure.
RunRef = int | str
LAST = "last"

#: The state a kept task run is shown coming from, in the new run's history.
_KEPT_FROM = Pending("Kept from an earlier run.")
_MAPPED_MESSAGE = re.compile(r"^Mapped (\d+) children\.")
_UNRECORDED_PARAMETERS = ("(not recordable)", "(too large to record)")


@dataclass
class RestartPlan:
    """What a restart starts from: the old run, the parameters and the states kept."""

    run: FlowRunRecord
    parameters: dict[str, Any]
    task_states: dict[Task[Any], State]
    #: Why a task run (position in the flow's order, map index) runs again although it
    #: had succeeded; added to its final state's message.
    notes: dict[tuple[int, int | None], str] = field(default_factory=dict)
    kept: int = 0
    rerun: int = 0
    values_read: int = 0
    #: Seconds spent reading the history and building the states, then reading values.
    planning_seconds: float = 0.0
    reading_seconds: float = 0.0

    def replay(self, runner: Any, task: Task[Any], state: State) -> None:
        """Tell the run's observers (the history first) of a kept state, without
        running the task's state handlers: nothing happened to the task in this run."""
        for observer in runner.observers:
            observer(task, _KEPT_FROM, state)

    async def annotate(
        self, runner: Any, task: Task[Any], i: int, map_index: int | None, state: State,
    ) -> State:
        """``state``, with the reason its task run ran again added to its message."""
        note = self.notes.get((i, map_index))
        if note is None:
            return state
        noted = state.copy()
        noted.message = f"{state.message} {note}" if state.message else note
        for observer in runner.observers:
            observer(task, state, noted)
        return noted


async def find_run(store: HistoryStore, flow: Flow, ref: RunRef) -> FlowRunRecord:
    """The run ``ref`` names, checked to be a finished (or crashed) run of ``flow``."""
    where = display_url(store.url)
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise RestartError(
            f"restart_from must be a run number, a flow_run_id or 'last', not {ref!r}")
    if ref == LAST:
        record = await _last_failed(store, flow.name)
    else:
        key: int | str = int(ref) if isinstance(ref, str) and ref.isdigit() else ref
        try:
            record = await store.get_flow_run(key)
        except RunNotFoundError:
            raise RestartError(
                f"cannot restart flow run {ref!r}: the history at {where} has no such run; "
                f"list the runs of {flow.name!r} with asyncflow.history.list_runs("
                f"flow={flow.name!r}), or restart_from='last' for its latest failure"
            ) from None
    if record.flow_name != flow.name:
        raise RestartError(
            f"flow run {record.id} is a run of flow {record.flow_name!r}, not of "
            f"{flow.name!r}; restart it with that flow, or pick a run of {flow.name!r}"
        )
    if not record.is_finished:
        raise RestartError(
            f"flow run {record.id} of {flow.name!r} is still running (pid {record.pid} on "
            f"{record.host}); wait for it to end, or stop it, then restart it"
        )
    return record


async def _last_failed(store: HistoryStore, flow_name: str) -> FlowRunRecord:
    """The flow's latest run that failed or crashed."""
    failed = [name for name, cls in _state_classes().items() if issubclass(cls, Failed)]
    page = await store.list_runs(flow=flow_name, state=failed, limit=1)
    if page:
        return page[0]
    raise RestartError(
        f"flow {flow_name!r} has no failed or crashed run in the history at "
        f"{display_url(store.url)} to restart; name a run with restart_from=RUN"
    )


def _json_form(value: Any) -> Any:
    """A parameter's value as the history records it (JSON, reprs for the rest)."""
    return json.loads(json.dumps(value, default=repr))


def restart_parameters(
    flow: Flow, record: FlowRunRecord, given: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """The run's parameters (the old run's, overridden by ``given``) and the names of
    those whose value differs from the old run's."""
    old = record.parameters
    given = dict(given or {})
    declared = flow._parameters
    unrecorded = [key for key in _UNRECORDED_PARAMETERS if key in old]
    if unrecorded and set(declared) - set(given):
        raise RestartError(
            f"flow run {record.id}'s parameters were not recorded ({unrecorded[0]}: "
            f"{old[unrecorded[0]]}), so they cannot be reused; pass every parameter "
            f"({', '.join(sorted(declared))}) with parameters=..."
        )
    values = resolve_parameters(
        flow, {**{k: v for k, v in old.items() if k in declared}, **given})
    changed = [name for name in declared
               if name not in old or _json_form(values[name]) != _json_form(old[name])]
    return values, changed


def _current_graph(flow: Flow, plan: _Plan) -> tuple[list[str], list[Edge]]:
    slugs = [t.slug or t.name for t in plan.tasks]
    edges = [(e.upstream_task.slug or e.upstream_task.name,
              e.downstream_task.slug or e.downstream_task.name, e.key, bool(e.mapped))
             for e in flow.edges]
    return slugs, edges


def _descendants(plan: _Plan, roots: list[int]) -> set[int]:
    found: set[int] = set()
    stack = list(roots)
    while stack:
        i = stack.pop()
        for j in plan.downstream[i]:
            if j not in found:
                found.add(j)
                stack.append(j)
    return found


def _kept_state(record: TaskRunRecord, run_id: int) -> State | None:
    """A fresh state of the recorded class, or None if the task run must run again."""
    cls = _state_class(record.state)
    if cls is None or not issubclass(cls, Success):
        return None
    message = f"Kept from flow run {run_id}: {record.message}"
    state: State = cls(message, map_index=record.map_index, run_count=record.run_count)
    return state


def _child_count(parent: TaskRunRecord, children: dict[int, TaskRunRecord]) -> int:
    found = _MAPPED_MESSAGE.match(parent.message or "")
    if found:
        return int(found.group(1))
    return max(children, default=-1) + 1


async def plan_restart(
    store: HistoryStore, flow: Flow, plan: _Plan, ref: RunRef,
    parameters: Mapping[str, Any] | None,
) -> RestartPlan:
    """Everything a restart of ``ref`` starts from; :class:`RestartError` if it cannot."""
    started = time.perf_counter()
    record = await find_run(store, flow, ref)
    task_runs = await store.task_runs(record.id)
    if record.task_count and not task_runs:
        raise RestartError(
            f"the history at {display_url(store.url)} has no task runs of flow run "
            f"{record.id} (nothing was recorded, or its transitions were lost), so there "
            "is nothing to restart from; run the flow afresh"
        )
    graph, _ = await store.graph(record.id)
    old_slugs = [str(t[0]) for t in graph.get("tasks", ())]
    new_slugs, new_edges = _current_graph(flow, plan)
    check_same_graph(flow_name=flow.name, run_id=record.id, old_slugs=old_slugs,
                     old_edges=recorded_edges(graph), new_slugs=new_slugs,
                     new_edges=new_edges)
    values, changed = restart_parameters(flow, record, parameters)
    position = {slug: i for i, slug in enumerate(new_slugs)}
    parents: dict[int, TaskRunRecord] = {}
    children: dict[int, dict[int, TaskRunRecord]] = {}
    for tr in task_runs:
        i = position.get(tr.task_slug)
        if i is None:
            continue
        if tr.map_index is None:
            parents[i] = tr
        else:
            children.setdefault(i, {})[tr.map_index] = tr

    parameter_positions = [i for i, t in enumerate(plan.tasks) if isinstance(t, Parameter)]
    dirty = _descendants(plan, [i for i in parameter_positions
                                if plan.tasks[i].name in changed])
    kept = Kept(flow=flow, plan=plan, run_id=record.id)
    for i, task in enumerate(plan.tasks):
        parent = parents.get(i)
        if i in dirty or isinstance(task, Parameter) or parent is None:
            kept.run_full.add(i)
            continue
        state = _kept_state(parent, record.id)
        if state is None:
            kept.run_full.add(i)
        elif isinstance(state, Mapped) and plan.mapped[i]:
            own = children.get(i, {})
            n = _child_count(parent, own)
            slots: list[State | None] = [None] * n
            for k, child in own.items():
                if k < n:
                    child_state = _kept_state(child, record.id)
                    if child_state is not None:
                        slots[k] = child_state
                        kept.records[(i, k)] = child
            state._n_map_states = n
            kept.mapped[i] = (state, slots)
            kept.partial[i] = {k for k, s in enumerate(slots) if s is None}
        else:
            kept.states[i] = state
            kept.records[(i, None)] = parent
    planned = time.perf_counter()
    read = await settle_values(kept)
    finished = time.perf_counter()

    task_states: dict[Task[Any], State] = {}
    for i, state in kept.states.items():
        task_states[plan.tasks[i]] = state
    for i, (mapped, slots) in kept.mapped.items():
        mapped.map_states = [s if s is not None else Pending("Child to run again.",
                                                             map_index=k)
                             for k, s in enumerate(slots)]
        mapped.result = [s.result for s in mapped.map_states]
        task_states[plan.tasks[i]] = mapped
    n_children = sum(len(slots) for _, slots in kept.mapped.values())
    rerun_children = sum(len(ks) for ks in kept.partial.values())
    result = RestartPlan(
        run=record, parameters=values, task_states=task_states, notes=kept.notes,
        kept=len(kept.states) + n_children - rerun_children,
        rerun=len(kept.run_full) + rerun_children, values_read=read,
        planning_seconds=planned - started, reading_seconds=finished - planned,
    )
    logger.info(
        "restarting flow run %s of %r: %d task runs kept, %d to run (%d values read)",
        record.id, flow.name, result.kept, result.rerun, read,
    )
    return result


async def plan_restart_from(
    url: str, flow: Flow, plan: _Plan, ref: RunRef, parameters: Mapping[str, Any] | None,
) -> RestartPlan:
    """:func:`plan_restart` against the history database at ``url``."""
    async with store_for(url) as store:
        return await plan_restart(store, flow, plan, ref, parameters)
