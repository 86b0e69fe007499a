"""``FlowRunner``: Prefect 1.x's blocking ``FlowRunner(flow).run(...)`` over ``flow.run``."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from ._exceptions import FlowRunError
from ._run_call import refuse_inside_running_loop

if TYPE_CHECKING:
    from ._flow import Flow
    from ._states import State
    from ._task import Task


class FlowRunner:
    """Runs ``flow`` and returns its final state, as Prefect 1.x's FlowRunner did.

    :meth:`run` blocks (and refuses inside a running event loop); :meth:`arun` is the
    same run as a coroutine. ``return_tasks`` limits ``state.result`` to those tasks
    (all tasks when not given); the other options are those of ``flow.run``.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    async def arun(
        self,
        parameters: Mapping[str, Any] | None = None,
        *,
        task_states: Mapping[Task[Any], State] | None = None,
        return_tasks: Iterable[Task[Any]] | None = None,
        context: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> State:
        """Run the flow; ``state.result`` maps each of ``return_tasks`` to its state."""
        wanted = None if return_tasks is None else set(return_tasks)
        if wanted is not None:
            unknown = wanted - self.flow.tasks
            if unknown:
                raise FlowRunError(
                    f"return_tasks names tasks that are not in flow {self.flow.name!r}: "
                    f"{sorted(t.name for t in unknown)}"
                )
        from ._flow import Flow

        # Flow's own run, not an override: a subclass may have made run() blocking.
        state = await Flow.run(self.flow, parameters, task_states=task_states,
                               context=context, **options)
        if wanted is not None and isinstance(state.result, dict):
            state.result = {t: s for t, s in state.result.items() if t in wanted}
        return state

    def run(self, parameters: Mapping[str, Any] | None = None, **options: Any) -> State:
        """Run the flow to its final state, blocking; the options are those of :meth:`arun`."""
        refuse_inside_running_loop(
            "FlowRunner.run() blocks, and was called inside a running event loop; "
            "use `state = await FlowRunner(flow).arun(...)` or `await flow.run(...)`"
        )
        return anyio.run(functools.partial(self.arun, parameters, **options), backend="asyncio")

    def __repr__(self) -> str:
        return f"<FlowRunner: {self.flow.name}>"
