"""``apply_map``: map a function that builds tasks, as ``task.map`` maps one task.

::

    def inc_if_even(x):
        with case(is_even(x), True):
            bigger = inc(x)
        return merge(bigger, x)

    with Flow("numbers") as flow:
        results = apply_map(inc_if_even, range(10))

The function runs once, at build time, on a scratch copy of the flow. Every task it
creates is then added to the flow mapped: child ``k`` of each works on element ``k`` of
the mapped inputs, so the whole sub-graph runs once per element (a skip or a failure in
one element's branch stays in that branch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._collections import collection_task
from ._constant import Constant
from ._edges import building_flow_var
from ._exceptions import FlowDefinitionError, TaskArgumentError
from ._flow_editing import all_or_nothing, no_open_blocks
from ._parameter import Parameter
from ._task import Task

if TYPE_CHECKING:
    from ._flow import Flow

_Inputs = dict[Task[Any], tuple[bool, bool]]  # input task -> (mapped, flattened)


def apply_map(func: Callable[..., Any], *args: Any, flow: Flow | None = None,
              **kwargs: Any) -> Any:
    """Call ``func`` once to build tasks, and map everything it built over the inputs.

    ``args`` and ``kwargs`` are what to map over: tasks (their results), lists or tuples.
    Wrap one in :class:`~asyncflow.unmapped` to give it whole to every element, or in
    :class:`~asyncflow.flatten` to map over a list of lists flattened by one level.
    ``func`` receives the tasks standing for the inputs (an unmapped plain value as is)
    and may use any tasks, ``case`` blocks and ``merge``, but no ``.map`` of its own.
    Tasks from outside that ``func`` uses without receiving them as inputs (a Parameter,
    say) are given whole to every element. With ``flow=``, ``func`` is called with a
    ``flow=`` keyword too. Returns what ``func`` returns.
    """
    from ._flow import Flow, _annotations, flatten_value

    if not callable(func):
        raise TaskArgumentError(
            f"apply_map() takes a function that builds tasks first, got {func!r}"
        )
    explicit = flow is not None
    if flow is None:
        flow = building_flow_var.get()
        if flow is None:
            raise FlowDefinitionError(
                "apply_map() was called outside a flow; call it inside "
                "`with Flow('name') as flow:`, or pass flow=..."
            )
    elif not isinstance(flow, Flow):
        raise TaskArgumentError(f"apply_map(flow=...) takes a Flow, got {flow!r}")
    name = getattr(func, "__name__", repr(func))
    inputs: _Inputs = {}

    def prepare(value: Any, where: str) -> Any:
        is_mapped, flattened, inner = _annotations(value, True)
        inner = collection_task(inner, flow)
        if isinstance(inner, Task):
            flow.add_task(inner)
            inputs[inner] = (is_mapped, flattened)
            return inner
        if not is_mapped:
            return inner  # an unmapped plain value: every element's call gets it as is
        if isinstance(inner, (str, bytes)) or not isinstance(inner, Sequence):
            raise TaskArgumentError(
                f"apply_map({name}): cannot map over {where}={inner!r} "
                f"({type(inner).__name__}); pass a list or tuple (list(...) of other "
                f"iterables), or wrap it as unmapped(...) to give it whole to every element"
            )
        const = Constant(flatten_value(inner) if flattened else inner)
        inputs[const] = (True, False)
        return const

    with all_or_nothing(flow):
        args2 = [prepare(a, f"argument {i + 1}") for i, a in enumerate(args)]
        kwargs2 = {k: prepare(v, k) for k, v in kwargs.items()}
        scratch = flow.copy()
        with no_open_blocks(), scratch:
            result = func(*args2, flow=scratch, **kwargs2) if explicit else func(*args2, **kwargs2)
        _take_over(flow, scratch, inputs, name)
    return result


def _take_over(flow: Flow, scratch: Flow, inputs: _Inputs, name: str) -> None:
    """Add what ``func`` built in ``scratch`` to ``flow``, mapped over ``inputs``."""
    new = [t for t in scratch._tasks if t not in flow._tasks]
    built = {t: None for t in new if t not in inputs and not isinstance(t, Parameter)}
    for task in built:
        if task in scratch._mapped:
            raise FlowDefinitionError(
                f"apply_map({name}) built {task!r} with a map of its own (.map(), "
                "mapped(...) or a nested apply_map); inside apply_map every task is "
                "already mapped once per element, so call the task instead"
            )
    for task in new:
        if task in scratch._generated_slugs:
            task.slug = None  # let the flow name it among its own tasks
        flow.add_task(task)
    for edge in scratch._edges:
        if edge in flow._edges:
            continue
        up, down = edge.upstream_task, edge.downstream_task
        mapped, flattened = edge.mapped, edge.flattened
        if down in built:
            if flattened and (up in built or up in inputs):
                raise FlowDefinitionError(
                    f"apply_map({name}): flatten() of {up!r} inside the function is "
                    "ambiguous when every task is mapped; flatten the input instead: "
                    "apply_map(func, flatten(x))"
                )
            if up in built:
                mapped, flattened = True, False
            elif up in inputs:
                mapped, flattened = inputs[up]
        flow.add_edge(up, down, key=edge.key, mapped=mapped, flattened=flattened)
    for task in built:
        constants = scratch.constants.get(task)
        if constants:
            flow.set_dependencies(task, keyword_tasks=constants)
    # Every task the function built depends on every input, as when the function is called
    # once per element: roots of the sub-graph get the inputs they do not already use.
    for task in built:
        upstream = flow.upstream_tasks(task)
        if any(t in built for t in upstream):
            continue
        for arg, (mapped, flattened) in inputs.items():
            if arg not in upstream:
                flow.add_edge(arg, task, mapped=mapped, flattened=flattened)
