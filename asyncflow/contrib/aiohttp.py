"""Serve flows from an aiohttp app: start runs over HTTP, watch them live, cancel them.

::

    from aiohttp import web
    from asyncflow.contrib.aiohttp import setup

    app = web.Application()
    setup(app, flows=[etl, report], prefix="/flows", max_concurrent_runs=8)
    web.run_app(app, host="127.0.0.1", port=8080)

Routes (``{prefix}`` defaults to ``/flows``):

- ``POST {prefix}/{flow_name}/runs`` with the parameters as a JSON object: 202 with
  ``{"run_id", "flow", "state", ...}`` and a ``Location`` header. 400 when the body is not
  a JSON object, holds NaN or an infinity, nests more than 64 levels, or the parameters do
  not match the flow (the reason is in ``error``), 404 for an unknown flow, 413 for a body
  over the app's ``client_max_size``, 429 when ``max_concurrent_runs`` runs are active,
  503 while shutting down.
- ``GET {prefix}/runs/{run_id}``: the run's state and each task's (state, message, mapped
  children counts, result location, and the value when the task's result is a JSONResult).
- ``GET {prefix}/runs/{run_id}/events``: server-sent events, one ``transition`` event per
  state change (replayed from the start, or after ``Last-Event-ID``), ending with ``end``.
- ``DELETE {prefix}/runs/{run_id}``: cancel the run (200 once it ended, 202 if still
  ending, 409 if it had already finished).

The app's :class:`RunManager` is ``app[run_manager_key]``; it keeps the most recent
``keep_finished_runs`` finished runs in memory (1,000 by default) and nothing on disk.
Flows can also simply be awaited inside any handler: ``state = await flow.run(...)``.
"""

from __future__ import annotations

from .._aiohttp._errors import (
    RunLimitError as RunLimitError,
    RunManagerClosedError as RunManagerClosedError,
    UnknownFlowError as UnknownFlowError,
    UnknownRunError as UnknownRunError,
)
from .._aiohttp._manager import RunManager as RunManager
from .._aiohttp._runs import FlowRun as FlowRun
from .._aiohttp._setup import run_manager_key as run_manager_key, setup as setup

__all__ = [
    "FlowRun",
    "RunLimitError",
    "RunManager",
    "RunManagerClosedError",
    "UnknownFlowError",
    "UnknownRunError",
    "run_manager_key",
    "setup",
]
