"""``flow.run(restart_from=...)``: checking the options at once, and planning at the start.

The options are checked when the run is made, before anything is awaited; the history is
read when the run starts, before its observers open, so a restart that cannot be made
raises :class:`~asyncflow.history.RestartError` and leaves nothing recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core._exceptions import ParameterError
from ._errors import RestartError
from ._restart import plan_restart_from
from ._store import DEFAULT_URL

if TYPE_CHECKING:
    from .._core._flow import Flow
    from .._core._flow_runner import FlowRunner


def check_restart_options(
    flow: Flow, restart_from: Any, parameters: Mapping[str, Any] | None,
    task_states: Any, history: Any,
) -> None:
    if isinstance(restart_from, bool) or not isinstance(restart_from, int | str):
        raise RestartError(
            f"restart_from must be a history run number, a flow_run_id or 'last', not "
            f"{restart_from!r}"
        )
    if task_states:
        raise RestartError(
            "flow.run() got both restart_from and task_states; restart_from builds the "
            "task states from the history, so pass only one of them"
        )
    if history is False:
        raise RestartError(
            "restart_from reads the old run from the history, and history=False turns it "
            "off; pass history=URL (or leave it unset to use the history.url setting)"
        )
    unknown = sorted(set(parameters or {}) - set(flow._parameters))
    if unknown:
        raise ParameterError(
            f"flow {flow.name!r} got unknown parameters {unknown}; "
            f"its parameters are {sorted(flow._parameters) or 'none'}"
        )


def restart_url(history: Any, config: Any) -> str:
    """The history database a restart reads the old run from (and records the new one in)."""
    if isinstance(history, str):
        return history
    if history is None or history is True:
        return str(config.get_path("history.url") or "") or DEFAULT_URL
    url = getattr(history, "url", None)
    if isinstance(url, str):
        return url
    raise RestartError(
        f"history={history!r} names no database to restart from; pass history=URL or a "
        "Recorder"
    )


async def start_restart(runner: FlowRunner, config: Any) -> None:
    """Plan the restart and give the runner its parameters and task states."""
    assert runner.restart_from is not None
    url = restart_url(runner.history, config)
    if runner.history is None or runner.history is True:
        runner.history = url  # the new run is recorded next to the old one
    plan = await plan_restart_from(url, runner.flow, runner.plan, runner.restart_from,
                                   runner.parameters)
    runner.restart = plan
    runner.parameters = plan.parameters
    runner.task_states = dict(plan.task_states)
    runner.user_context["restart_of"] = plan.run.id
