"""asyncflow: an asyncio-native workflow engine.

Tasks wired into Flows, every run a series of States, results that persist themselves
and state handlers awaited on every transition::

    from asyncflow import Flow, task

    @task
    async def add(x, y=1):
        return x + y

    with Flow("numbers") as flow:
        first = add(1, y=2)
        second = add(x=first, y=100)

    state = await flow.run()          # or flow.run_sync() from synchronous code
    state.result[second].result       # 103
"""

from __future__ import annotations

from . import (
    _wiring,  # noqa: F401 - attaches results, history and pictures to the engine
    cache_validators as cache_validators,
    config as config,
    signals as signals,
    states as states,
    triggers as triggers,
)
from ._core._apply_map import apply_map as apply_map
from ._core._context import context as context
from ._core._edges import (
    Edge as Edge,
    flatten as flatten,
    mapped as mapped,
    unmapped as unmapped,
)
from ._core._exceptions import (
    AsyncflowError as AsyncflowError,
    ConfigError as ConfigError,
    CycleError as CycleError,
    FlowDefinitionError as FlowDefinitionError,
    FlowRunError as FlowRunError,
    ParameterError as ParameterError,
)
from ._core._flow import Flow as Flow
from ._core._parameter import Parameter as Parameter
from ._core._task import FunctionTask as FunctionTask, Task as Task, task as task
from ._datetime_parameter import DateTimeParameter as DateTimeParameter
from ._dotdict import DotDict as DotDict
from ._tasks._case import case as case
from ._tasks._resource_manager import resource_manager as resource_manager
from ._version import __version__ as __version__

__all__ = [
    "AsyncflowError",
    "ConfigError",
    "CycleError",
    "DateTimeParameter",
    "DotDict",
    "Edge",
    "Flow",
    "FlowDefinitionError",
    "FlowRunError",
    "FunctionTask",
    "Parameter",
    "ParameterError",
    "Task",
    "__version__",
    "apply_map",
    "cache_validators",
    "case",
    "config",
    "context",
    "flatten",
    "mapped",
    "resource_manager",
    "signals",
    "states",
    "task",
    "triggers",
    "unmapped",
]

#: Where names a Prefect 1.x user may look for at the top level live in asyncflow.
_ELSEWHERE = {
    **dict.fromkeys(
        ("Result", "LocalResult", "S3Result", "GCSResult", "PrefectResult", "JSONResult",
         "ConstantResult", "SecretResult", "NoResult"), "asyncflow.results"),
    **dict.fromkeys(
        ("State", "Pending", "Scheduled", "Running", "Success", "Failed", "Skipped",
         "Mapped", "Cached", "Retrying", "Paused", "Looped", "Cancelled", "TimedOut",
         "TriggerFailed", "Finished", "Resume"), "asyncflow.states"),
    **dict.fromkeys(("FAIL", "SUCCESS", "SKIP", "RETRY", "PAUSE", "LOOP", "ENDRUN",
                     "TRIGGERFAIL"), "asyncflow.signals"),
    **dict.fromkeys(("Constant",), "asyncflow.tasks"),
    **dict.fromkeys(("FlowRunner",), "asyncflow.engine"),
    **dict.fromkeys(("LocalExecutor", "DaskExecutor", "LocalDaskExecutor"),
                    "asyncflow.executors"),
    **dict.fromkeys(("IntervalSchedule", "CronSchedule"), "asyncflow.schedules"),
    **dict.fromkeys(("Secret",), "asyncflow.secrets"),
}


def __getattr__(name: str) -> object:
    where = _ELSEWHERE.get(name)
    if where is not None:
        raise AttributeError(
            f"module 'asyncflow' has no attribute {name!r}; it lives in {where}: "
            f"write `from {where} import {name}`"
        )
    raise AttributeError(f"module 'asyncflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

