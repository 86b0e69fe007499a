"""Task run logs on the dashboard: the task run page's Logs section, its level filter and
paging, the live stream, and the run page's links to a failed task's logs."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import aiohttp
import anyio
import playwright.async_api
import pytest

from asyncflow import Flow, context, task
from asyncflow._ui import _logs
from asyncflow.history import Recorder
from tests.ui.helpers import Dashboard

pytestmark = pytest.mark.anyio
expect: Any = playwright.async_api.expect


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


@task
async def noisy() -> None:
    context.logger.info("reading <input> rows")
    context.logger.warning("row 3 looks odd")


@task
async def loader() -> None:
    context.logger.error("the warehouse said no")
    raise ValueError("warehouse rejected 3 rows")


def _flow() -> Flow:
    with Flow("logged") as flow:
        noisy()
        loader()
    return flow


async def test_the_task_run_page_shows_its_logs_escaped(dashboard: Dashboard) -> None:
    await _flow().run(history=dashboard.url)
    status, page = await _get(dashboard.base + "runs/1/tasks/1")
    assert status == 200, page
    assert 'id="logs"' in page
    assert "reading &lt;input&gt; rows" in page and "<input> rows" not in page
    assert "row 3 looks odd" in page
    assert "data-live" not in page.split('id="logs"')[1].split(">")[0]  # finished: no stream


async def test_the_level_filter_keeps_the_lines_at_or_above_it(dashboard: Dashboard) -> None:
    await _flow().run(history=dashboard.url)
    _, page = await _get(dashboard.base + "runs/1/tasks/1?level=WARNING")
    assert "row 3 looks odd" in page and "reading" not in page
    _, page = await _get(dashboard.base + "runs/1/tasks/1?level=ERROR")
    assert 'id="no-logs"' in page
    status, page = await _get(dashboard.base + "runs/1/tasks/1?level=LOUD")
    assert status == 400 and "level must be one of DEBUG, INFO" in page


async def test_a_long_log_is_paged(dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_logs, "LINES_PER_PAGE", 10)

    @task
    def long() -> None:
        for i in range(25):
            context.logger.info("line %d", i)

    with Flow("long") as flow:
        long()
    await flow.run(history=dashboard.url)
    _, page = await _get(dashboard.base + "runs/1/tasks/0")
    assert "line 9<" in page and "line 10<" not in page
    link = re.search(r'id="logs-next" href="([^"]+)"', page)
    assert link is not None
    _, second = await _get(dashboard.base.rstrip("/") + link.group(1).replace("&amp;", "&"))
    assert "line 10<" in second and "line 19<" in second and "line 9<" not in second


async def test_the_run_page_links_a_failed_task_to_its_logs(dashboard: Dashboard) -> None:
    await _flow().run(history=dashboard.url)
    _, page = await _get(dashboard.base + "runs/1")
    links = re.findall(r'class="logs-link" href="([^"]+)"', page)
    assert links == ["/runs/1/tasks/0#logs-title"]  # loader failed; noisy did not


async def test_the_stream_sends_new_lines_then_ends(dashboard: Dashboard) -> None:
    await _flow().run(history=dashboard.url)
    _, body = await _get(dashboard.base + "runs/1/tasks/1/logs?after=0&level=WARNING")
    assert body.count("event: log") == 1 and "row 3 looks odd" in body
    assert body.rstrip().endswith("event: end\ndata: {}")


async def test_a_running_task_streams_its_logs_into_the_page(
    browser: Any, dashboard: Dashboard
) -> None:
    logged = anyio.Event()
    more = anyio.Event()
    finish = anyio.Event()

    @task
    async def worker() -> None:
        context.logger.info("first line")
        logged.set()
        await more.wait()
        context.logger.warning("second line, while the page is open")
        await finish.wait()

    with Flow("streaming") as flow:
        worker()
    page = await browser.new_page()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(partial(flow.run, history=Recorder(dashboard.url, flush_interval=0.02)))
            await logged.wait()
            rows = page.locator("#logs tbody tr")
            for _ in range(200):  # until the first line is written: each reload is a read
                await page.goto(dashboard.base + "runs/1/tasks/0")
                if await rows.count():
                    break
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text("first line")
            more.set()
            await expect(rows).to_have_count(2)
            await expect(rows.nth(1)).to_contain_text("second line, while the page is open")
            await expect(rows.nth(1).locator("[data-col=level]")).to_have_text("WARNING")
            await expect(rows.nth(1)).to_have_class("warning")
            finish.set()
        await expect(page.locator("#task-state")).to_have_text("Success")
        await page.select_option("#log-filter select", "WARNING")
        await page.click("#log-filter button")
        await expect(page.locator("#logs tbody tr")).to_have_count(1)
        await expect(page.locator("#logs tbody tr")).to_contain_text("second line")
    finally:
        await page.close()
