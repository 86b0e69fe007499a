"""The run-history dashboard: an aiohttp app over the history database.

:func:`create_app` gives the app to serve or to mount in another aiohttp app; the
``asyncflow ui`` command (:mod:`asyncflow._ui.cli`) and :func:`serve` serve it. Given
flows, the dashboard can also start, cancel and restart their runs (:mod:`._actions`).
It needs the ``aiohttp`` extra, which is imported only when an app is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from .._core._exceptions import ConfigError, MissingExtraError
from ..history import configured_url
from .cli import is_loopback, serve as serve_app

if TYPE_CHECKING:
    from aiohttp import web

    from .._core._flow import Flow

__all__ = ["create_app", "serve"]


def create_app(
    store_url: str,
    *,
    token: str | None = None,
    poll_interval: float = 0.5,
    draw_max_tasks: int = 200,
    flows: Iterable[Flow] = (),
    max_concurrent_runs: int = 16,
) -> web.Application:
    """The dashboard for the history database at ``store_url``.

    With a ``token`` every request must carry it (``Authorization: Bearer <token>``, or
    a ``?token=<token>`` link once, which sets a cookie); others get 401. Running runs
    are polled for new transitions every ``poll_interval`` seconds. The database is
    opened when the app starts and closed when it stops, also when it is mounted with
    ``parent.add_subapp("/history/", app)``.

    With ``flows`` the dashboard can start runs of them from a form of their parameters,
    cancel those runs and restart failed ones; at most ``max_concurrent_runs`` run at
    once, and each is recorded in this history. Without flows it is read-only.
    """
    flows = list(flows)
    app: web.Application = _app_module().create_app(
        store_url, token=token, poll_interval=poll_interval, draw_max_tasks=draw_max_tasks
    )
    if flows:
        import_module("._actions", __name__).add_actions(
            app, flows, store_url=store_url, max_concurrent_runs=max_concurrent_runs
        )
    return app


async def serve(
    *,
    flows: Iterable[Flow] = (),
    url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    token: str | None = None,
    max_concurrent_runs: int = 16,
) -> None:
    """Serve the dashboard (what ``asyncflow ui`` does) until SIGINT or SIGTERM.

    ``url`` is the history database (default: the ``history.url`` setting, else
    ``sqlite:///~/.asyncflow/history.db``); ``flows`` are the flows it can start. A
    ``host`` other than a loopback address needs a ``token``::

        asyncio.run(serve(flows=[etl], port=9000))
    """
    if not is_loopback(host) and token is None:
        raise ConfigError(
            f"host={host!r} makes the dashboard reachable from other machines, so it "
            "needs a token: pass token=... (or keep host='127.0.0.1')"
        )
    where = configured_url(url)
    app = create_app(where, token=token, flows=flows, max_concurrent_runs=max_concurrent_runs)
    await serve_app(app, host, port, url=where)


def _app_module() -> ModuleType:
    try:
        import_module("aiohttp")
    except ImportError:
        raise MissingExtraError("the history dashboard", "aiohttp", "aiohttp") from None
    return import_module("._app", __name__)
