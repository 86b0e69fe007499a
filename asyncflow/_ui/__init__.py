"""The run-history dashboard: an aiohttp app over the history database.

:func:`create_app` gives the app to serve or to mount in another aiohttp app; the
``asyncflow ui`` command (:mod:`asyncflow._ui.cli`) serves it. It needs the ``aiohttp``
extra, which is imported only when an app is made.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from .._core._exceptions import MissingExtraError

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["create_app"]


def create_app(
    store_url: str,
    *,
    token: str | None = None,
    poll_interval: float = 0.5,
    draw_max_tasks: int = 200,
) -> web.Application:
    """The dashboard for the history database at ``store_url``.

    With a ``token`` every request must carry it (``Authorization: Bearer <token>``, or
    a ``?token=<token>`` link once, which sets a cookie); others get 401. Running runs
    are polled for new transitions every ``poll_interval`` seconds. The database is
    opened when the app starts and closed when it stops, also when it is mounted with
    ``parent.add_subapp("/history/", app)``.
    """
    app: web.Application = _app_module().create_app(
        store_url, token=token, poll_interval=poll_interval, draw_max_tasks=draw_max_tasks
    )
    return app


def _app_module() -> ModuleType:
    try:
        import_module("aiohttp")
    except ImportError:
        raise MissingExtraError("the history dashboard", "aiohttp", "aiohttp") from None
    return import_module("._app", __name__)
