"""The dashboard: an aiohttp application showing recorded runs (``asyncflow ui``)."""

from __future__ import annotations

from ._ui import create_app as create_app

__all__ = ["create_app"]
