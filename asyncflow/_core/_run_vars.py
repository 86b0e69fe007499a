"""The context variables that say which flow run and task run the running code is part of.

Set by the engine around each run and task run, read by the run context
(:mod:`._context`) and by log capture (:mod:`._log_capture`). A sync task body's worker
thread runs in a copy of its task run's context, so it sees the same values.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._context import FlowRunContext, TaskRunContext

flow_run_var: ContextVar[FlowRunContext | None] = ContextVar("asyncflow_flow_run", default=None)
task_run_var: ContextVar[TaskRunContext | None] = ContextVar("asyncflow_task_run", default=None)
