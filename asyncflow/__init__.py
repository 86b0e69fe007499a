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
    cache_validators as cache_validators,
)
from . import (
    config as config,
)
from . import (
    signals as signals,
)
from . import (
    states as states,
)
from . import (
    triggers as triggers,
)
from ._core._context import context as context
from ._core._edges import Edge as Edge
from ._core._edges import flatten as flatten
from ._core._edges import unmapped as unmapped
from ._core._exceptions import (
    AsyncflowError as AsyncflowError,
)
from ._core._exceptions import (
    CycleError as CycleError,
)
from ._core._exceptions import (
    FlowDefinitionError as FlowDefinitionError,
)
from ._core._exceptions import (
    FlowRunError as FlowRunError,
)
from ._core._exceptions import (
    ParameterError as ParameterError,
)
from ._core._flow import Flow as Flow
from ._core._parameter import Parameter as Parameter
from ._core._task import FunctionTask as FunctionTask
from ._core._task import Task as Task
from ._core._task import task as task
from ._version import __version__ as __version__

__all__ = [
    "AsyncflowError",
    "CycleError",
    "Edge",
    "Flow",
    "FlowDefinitionError",
    "FlowRunError",
    "FunctionTask",
    "Parameter",
    "ParameterError",
    "Task",
    "__version__",
    "cache_validators",
    "config",
    "context",
    "flatten",
    "signals",
    "states",
    "task",
    "triggers",
    "unmapped",
]
