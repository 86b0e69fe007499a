"""The dashboard: an aiohttp application showing recorded runs (``asyncflow ui``), which
can also start, cancel and restart runs of the flows it is given."""

from __future__ import annotations

from ._ui import create_app as create_app, serve as serve

__all__ = ["create_app", "serve"]
