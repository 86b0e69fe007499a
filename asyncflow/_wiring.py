"""Attaches results, the run history and flow pictures to the engine (see
:mod:`asyncflow._core._attached`). Imported once, by ``asyncflow/__init__.py``."""

from __future__ import annotations

from typing import Any

from ._core._attached import attached
from ._tracing._hook import tracing_observer


def _wrap_value(value: Any) -> Any:
    from ._results._base import Result

    attached.wrap_value = Result  # later calls skip this function and the import
    return Result(value=value)


def _no_result() -> Any:
    from ._results._no_result import NoResult

    return NoResult


def _default_parameter_result() -> Any:
    from ._results._json import JSONResult

    return JSONResult()


def _result_from_handler(handler: Any) -> Any:
    from .result_handlers import result_from_handler

    return result_from_handler(handler)


def _history_observer(url: str) -> Any:
    from ._history._recorder import recorder_for

    return recorder_for(url)


def _render_flow(flow: Any, **options: Any) -> Any:
    from .visualization import render

    return render(flow, **options)


def _check_restart_options(*args: Any) -> None:
    from ._history._restart_options import check_restart_options

    check_restart_options(*args)


async def _start_restart(runner: Any, config: Any) -> None:
    from ._history._restart_options import start_restart

    await start_restart(runner, config)


attached.wrap_value = _wrap_value
attached.no_result = _no_result
attached.default_parameter_result = _default_parameter_result
attached.result_from_handler = _result_from_handler
attached.history_observer = _history_observer
attached.render_flow = _render_flow
attached.check_restart_options = _check_restart_options
attached.start_restart = _start_restart
attached.tracing_observer = tracing_observer
