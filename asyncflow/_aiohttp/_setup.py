"""``setup(app, flows=...)``: serve flows from an aiohttp app, started and stopped with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from aiohttp import web

from .._core._exceptions import ConfigError
from .._core._flow import Flow
from ._manager import RunManager, check_seconds
from ._routes import RunContext, RunRoutes

#: Where :func:`setup` stores the app's :class:`RunManager`: ``app[run_manager_key]``.
run_manager_key = web.AppKey("asyncflow_run_manager", RunManager)


def setup(
    app: web.Application,
    flows: Iterable[Flow],
    *,
    prefix: str = "/flows",
    max_concurrent_runs: int = 16,
    keep_finished_runs: int = 1000,
    max_events_per_run: int = 1000,
    subscriber_queue_size: int = 256,
    run_context: RunContext | Mapping[str, Any] | None = None,
    run_options: Mapping[str, Any] | None = None,
    shutdown_timeout: float = 10.0,
    cancel_wait: float = 5.0,
    heartbeat: float = 15.0,
) -> RunManager:
    """Serve ``flows`` from ``app`` under ``prefix``; the app's :class:`RunManager`.

    Adds the routes ``POST {prefix}/{flow_name}/runs``, ``GET {prefix}/runs/{run_id}``,
    ``GET {prefix}/runs/{run_id}/events`` and ``DELETE {prefix}/runs/{run_id}``, stores the
    manager under :data:`run_manager_key`, starts it in ``app.cleanup_ctx`` and stops it
    when the app shuts down (active runs are cancelled, their handlers awaited).

    - ``run_context``: extra context for every run, a mapping or a function of the request
      that starts the run, e.g. ``lambda request: {"http": request.app[http_key]}``.
    - ``cancel_wait``: how long ``DELETE`` waits for the run to end before answering 202.
    - ``heartbeat``: seconds between keep-alive comments on an idle event stream.
    - the other options are :class:`RunManager`'s.

    Resources the flows use (a shared ``ClientSession``, a database pool) stay open until
    the runs have ended: active runs are cancelled when the app shuts down, before any
    ``cleanup_ctx`` closes them.
    """
    if run_manager_key in app:
        raise ConfigError(
            "setup() was already called for this app; pass every flow in one call, or "
            "mount a second set of flows in a sub-app (app.add_subapp)"
        )
    if prefix and not prefix.startswith("/"):
        raise ConfigError(f"prefix must start with '/', e.g. '/flows', got {prefix!r}")
    prefix = prefix.rstrip("/")
    if run_context is not None and not callable(run_context) and not isinstance(
        run_context, Mapping
    ):
        raise ConfigError(
            f"run_context must be a mapping or a function of the request, got {run_context!r}"
        )
    manager = RunManager(
        flows,
        max_concurrent_runs=max_concurrent_runs,
        keep_finished_runs=keep_finished_runs,
        max_events_per_run=max_events_per_run,
        subscriber_queue_size=subscriber_queue_size,
        run_options=run_options,
        shutdown_timeout=shutdown_timeout,
    )
    routes = RunRoutes(
        manager,
        run_context=run_context,
        heartbeat=check_seconds("heartbeat", heartbeat),
        cancel_wait=check_seconds("cancel_wait", cancel_wait),
    )
    app[run_manager_key] = manager
    routes.add_to(app, prefix)
    app.cleanup_ctx.append(_run_manager_context)
    app.on_shutdown.append(_stop_runs)
    return manager


async def _run_manager_context(app: web.Application) -> AsyncIterator[None]:
    manager = app[run_manager_key]
    await manager.start()
    yield
    await manager.aclose()


async def _stop_runs(app: web.Application) -> None:
    """At shutdown, before any cleanup: no new runs, active ones cancelled and awaited."""
    await app[run_manager_key].aclose()
