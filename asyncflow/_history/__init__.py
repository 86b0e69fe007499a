"""Run history: a recorder the engine attaches to runs, and the database behind it.

The engine calls :func:`recorder_for` when a run has history on; :mod:`asyncflow.history`
is the public face (reading runs back, pruning) and :mod:`asyncflow._ui` the dashboard.
"""

from __future__ import annotations

from ._errors import HistoryError as HistoryError, RunNotFoundError as RunNotFoundError
from ._recorder import Recorder as Recorder, recorder_for as recorder_for
from ._records import (
    FlowRunDetail as FlowRunDetail,
    FlowRunRecord as FlowRunRecord,
    TaskRunRecord as TaskRunRecord,
    TransitionRecord as TransitionRecord,
)
from ._store import (
    DEFAULT_URL as DEFAULT_URL,
    HistoryStore as HistoryStore,
    display_url as display_url,
    store_for as store_for,
)

__all__ = [
    "DEFAULT_URL",
    "FlowRunDetail",
    "FlowRunRecord",
    "HistoryError",
    "HistoryStore",
    "Recorder",
    "RunNotFoundError",
    "TaskRunRecord",
    "TransitionRecord",
    "display_url",
    "recorder_for",
    "store_for",
]
