"""What the dashboard tests and the screenshot script share: serving an app, the browser."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import playwright.async_api
from aiohttp import web

from asyncflow import Flow
from asyncflow._ui import create_app
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


@asynccontextmanager
async def dashboard_with(url: str, *flows: Flow) -> AsyncIterator[tuple[web.Application, str]]:
    """A dashboard of the history at ``url`` that can start ``flows``: the app, its address."""
    app = create_app(url, flows=flows, poll_interval=0.05)
    runner, base = await serve(app)
    try:
        yield app, base
    finally:
        await runner.cleanup()


async def follow_restart_links(page: Any, old: int, new: int) -> None:
    """On run ``new``'s page, follow its "Restart of" link to run ``old``, and that page's
    "Restarted by" link back."""
    expect: Any = playwright.async_api.expect
    await page.locator("#restart-of").click()
    await expect(page).to_have_url(re.compile(rf"/runs/{old}$"))
    restarted_by = page.locator("#restarted-by a")
    await expect(restarted_by).to_have_text(f"run #{new}")
    await restarted_by.click()
    await expect(page).to_have_url(re.compile(rf"/runs/{new}$"))
