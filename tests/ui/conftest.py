"""Fixtures for the dashboard tests: a served dashboard, and one headless Chromium per module.

``any_history_url`` runs a test against each database the history supports: a SQLite file
and a schema of the PostgreSQL server of ``tests/history`` (its fixtures are reused here).

The browser is Debian's ``chromium`` (``apt-get install -y chromium``) driven by
Playwright; Playwright never downloads a browser. When Chromium is missing, the fixture
installs Debian's package (as root), so the README's test command needs nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from asyncflow._ui import create_app
from tests.history.conftest import (
    postgres_root_url as postgres_root_url,
    postgres_url as postgres_url,
    sqlite_url as sqlite_url,
)
from tests.servers.debian import ensure_package
from tests.ui.helpers import CHROMIUM, CHROMIUM_ARGS, Dashboard, serve


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module scope, so that one browser serves every test of a module."""
    return "asyncio"


@pytest.fixture
def history_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def any_history_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def dashboard(history_url: str) -> AsyncIterator[Dashboard]:
    app = create_app(history_url, poll_interval=0.05)
    runner, base = await serve(app)
    try:
        yield Dashboard(history_url, base, app)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def chromium() -> str:
    ensure_package("chromium", Path(CHROMIUM).exists())
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Any]:
    import playwright.async_api as playwright_api
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
