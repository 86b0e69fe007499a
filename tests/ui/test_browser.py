"""The dashboard in headless Chromium: runs appear, DAGs render, live runs update, tokens hold."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import playwright.async_api
import pytest

from asyncflow import Flow, task
from asyncflow._ui import create_app
from asyncflow.history import Recorder
from tests.ui.flows import etl_flow
from tests.ui.helpers import Dashboard, serve

pytestmark = pytest.mark.anyio
expect: Any = playwright.async_api.expect


async def test_a_run_appears_and_its_dag_renders(
    browser: Any, dashboard: Dashboard, tmp_path: Path
) -> None:
    await etl_flow(tmp_path / "results").run(history=dashboard.url, checkpointing=True)
    page = await browser.new_page()
    try:
        await page.goto(dashboard.base)
        row = page.locator("#runs tr[data-run='1']")
        await expect(row).to_contain_text("etl")
        await expect(row.locator(".state")).to_have_text("Failed")
        await row.locator("a").click()
        await expect(page).to_have_url(re.compile(r"/runs/1$"))
        svg = page.locator("#dag svg")
        await expect(svg).to_be_visible()
        for name in ("extract", "summarize", "archive", "load"):
            await expect(svg).to_contain_text(name)
        await expect(svg.locator("g.node[data-slug='load-1']")).to_have_attribute(
            "data-state", "Failed")
        load = page.locator("#task-runs tr", has_text="load")
        await expect(load.locator("[data-col=message]")).to_contain_text(
            "ValueError: warehouse rejected 3 rows")
    finally:
        await page.close()


async def test_a_running_flow_updates_live(browser: Any, dashboard: Dashboard) -> None:
    started = anyio.Event()
    release = anyio.Event()

    @task
    async def wait_for_release() -> str:
        started.set()
        await release.wait()
        return "released"

    @task
    async def report(value: str) -> str:
        return value

    with Flow("live") as flow:
        report(wait_for_release())
    recorder = Recorder(dashboard.url, flush_interval=0.02)
    page = await browser.new_page()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(partial(flow.run, history=recorder))
            await started.wait()
            await page.goto(dashboard.base + "runs/1")
            run_state = page.locator("#run-state")
            waiting = page.locator("#task-runs tr", has_text="wait_for_release").locator(".state")
            await expect(run_state).to_have_text("Running")
            await expect(waiting).to_have_text("Running")
            await expect(page.locator("#live-status")).to_be_visible()
            release.set()
            await expect(run_state).to_have_text("Success")
            await expect(waiting).to_have_text("Success")
            await expect(page.locator("#task-runs tr", has_text="report").locator(".state")
                         ).to_have_text("Success")
    finally:
        await page.close()


async def test_a_bad_token_is_refused(browser: Any, history_url: str, tmp_path: Path) -> None:
    await etl_flow(tmp_path / "results").run(history=history_url)
    runner, base = await serve(create_app(history_url, token="s3cret"))
    context = await browser.new_context()
    try:
        page = await context.new_page()
        assert (await page.goto(base)).status == 401
        assert (await page.goto(base + "?token=wrong")).status == 401
        await expect(page.locator("body")).to_contain_text("needs its token")
        response = await page.goto(base + "?token=s3cret")
        assert response.status == 200
        await expect(page).to_have_url(base)  # the token left the address bar
        assert (await page.goto(base + "runs/1")).status == 200  # the cookie carries it
        await expect(page.locator("#dag svg")).to_be_visible()
    finally:
        await context.close()
        await runner.cleanup()
