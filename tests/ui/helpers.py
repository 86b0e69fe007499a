"""What the dashboard tests and the screenshot script share: serving an app, the browser."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aiohttp import web

from tests.servers.loopback import serve_on_loopback

CHROMIUM = os.environ.get("ASYNCFLOW_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@dataclass
class Dashboard:
    url: str  # the history database
    base: str  # where the dashboard is served, ending with "/"
    app: web.Application


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner, port = await serve_on_loopback(app)
    return runner, f"http://127.0.0.1:{port}/"
