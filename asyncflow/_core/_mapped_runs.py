"""Running a mapped task: one child task run per element of what it maps over.

The parent's state is :class:`~asyncflow.states.Mapped`; its ``map_states`` fill in as the
children finish. The children are spawned by the flow run (see
:mod:`asyncflow._core._flow_runner`), which tracks and cancels them like any task it
starts. Flattened edges (``flatten(...)``) are unpacked here too: :func:`flattened`
serves plain downstream tasks as well as mapped ones.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ._exceptions import FlowRunError
from ._flow import flatten_value
from ._states import Failed, Mapped, Pending, Skipped, State
from ._task_runner import skips_downstream

if TYPE_CHECKING:
    from ._edges import Edge
    from ._flow_runner import FlowRunner
    from ._plan import _Plan
    from ._task import Task

logger = logging.getLogger("asyncflow.engine")

#: Spawn this many children, then let the loop run them before spawning more.
SPAWN_BATCH = 256
_NOT_RUN_YET = Pending("Child not run yet.")


async def run_mapped(
    run: FlowRunner, i: int, task: Task[Any], initial: State | None, resume: bool,
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
    runner = run.task_runner
    plan = run.plan
    states = run.states
    in_edges = plan.in_edges[i]
    edges = plan.edges[i]
    parent: State = initial if initial is not None else (prior or Pending())
    ups: list[State] = [states[u] for _, u in in_edges]  # type: ignore[misc]
    previous: list[State | None] = []
    if prior is None:
        if task.skip_on_upstream_skip and any(
            skips_downstream(s, e.mapped) for e, s in zip(edges, ups, strict=True)
        ):
            skipped = Skipped("Upstream task was skipped; if this was not the intent, "
                              "set skip_on_upstream_skip=False.")
            return await runner.transition(task, parent, skipped)
        ready = map_inputs(plan, i, task, edges, ups)
        if isinstance(ready, State):
            return await runner.transition(task, parent, ready)
        n, mapped_values, mapped_states = ready
    else:
        n = prior.n_map_states
        previous = [*prior.map_states, *([None] * (n - len(prior.map_states)))]
        ready = map_inputs(plan, i, task, edges, ups)
        mapped_values, mapped_states = ({}, {}) if isinstance(ready, State) else ready[1:]
        for edge in edges:  # an input whose values are gone reads as None
            if edge.mapped and edge.key is not None:
                mapped_values.setdefault(edge.key, [])

    restart = run.restart if prior is not None else None
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
                    fixed[edge.key] = [c.result for c in flattened(state)]
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
                run.crashed(exc)  # re-raised by the run, not by this spawned task
                return
            finally:
                run.live.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]
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
            if k and not k % SPAWN_BATCH:
                await asyncio.sleep(0)
            run.spawn(child(k))
        if left[0]:
            await done.wait()
    mapped_state.result = [s.result for s in map_states]
    return mapped_state

def map_inputs(
    plan: _Plan, i: int, task: Task[Any], edges: list[Edge], ups: list[State]
) -> State | tuple[int, dict[str, list[Any]], dict[int, list[State]]]:
    """What node ``i``'s children get, or the Failed state that stops the mapping.

    Returns ``(n, values, states)``: the number of children, each mapped input's
    values by key, and for each mapped upstream that was itself mapped (by its
    position) the child states its children line up with.
    """
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
            children = flattened(state) if edge.flattened else list(state.map_states)
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
            why = MapError(
                f"Task {task.name!r} cannot map over the result of "
                f"{edge.upstream_task.name!r} ({type(result).__name__}), which is not "
                "iterable; return a list from it, or wrap it as unmapped(...)"
            )
            return Failed(_UNMAPPABLE, result=why)
        if edge.key is not None:
            values[edge.key] = seq
        lengths.append(len(seq))
    if edges and not can_map:
        return Failed(_NOTHING_TO_MAP, result=MapError(
            f"Task {task.name!r} cannot be mapped: no upstream it maps over succeeded"))
    for key in mapped_keys:
        seq = values[key] = list(constants[key])  # the flow's own value is not changed
        lengths.append(len(seq))
    return (min(lengths) if lengths else 0), values, child_states


class MapError(FlowRunError):
    """Why a mapped task could not be mapped (the result of its Failed state)."""


_NOTHING_TO_MAP = "No upstream states can be mapped over."
_UNMAPPABLE = "At least one upstream state has an unmappable result."


def flattened(state: State) -> list[State]:
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
