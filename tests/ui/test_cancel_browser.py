"""Cancel in headless Chromium, on a run the dashboard did not start: one that
``asyncflow run`` runs in another process. The run page says it is cancelling until the
process has stopped the run, then shows it Cancelled; the process exits by itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import playwright.async_api
import pytest

from asyncflow._history._cancel import CANCELLED_MESSAGE
from asyncflow._ui._actions import MANAGER
from asyncflow.cli._errors import EXIT_FAILED
from asyncflow.history import get_run
from tests.history.flow_process import waiting_flow_process
from tests.ui.action_flows import Gate
from tests.ui.helpers import dashboard_with

pytestmark = pytest.mark.anyio
expect: Any = playwright.async_api.expect


async def test_cancel_stops_a_run_of_another_process_which_shows_cancelling_until_it_ends(
    browser: Any, history_url: str, tmp_path: Path
) -> None:
    async with (
        dashboard_with(history_url, Gate().flow) as (app, base),
        waiting_flow_process(tmp_path, history_url, hold_cancel=True) as flow_process,
    ):
        page = await browser.new_page()
        try:
            await page.goto(base)
            await page.locator("#runs tr[data-run='1'] a").first.click()
            await expect(page).to_have_url(re.compile(r"/runs/1$"))
            await expect(page.locator("#run-state")).to_have_text("Running")
            await expect(page.locator("#cancelling")).to_have_count(0)

            await page.locator("#cancel-run").click()
            await expect(page).to_have_url(re.compile(r"/runs/1$"))
            await expect(page.locator("#cancelling")).to_have_text("Cancelling\u2026")
            await expect(page.locator("#cancel-run")).to_have_count(0)
            assert await flow_process.read_line() == b"cancelling\n"  # its task was cancelled
            await expect(page.locator("#run-state")).to_have_text("Running")

            await flow_process.let_cancel_finish()
            await expect(page.locator("#run-state")).to_have_text("Cancelled")
            await expect(page.locator("#task-runs tr", has_text="wait_for").locator(
                ".state")).to_have_text("Cancelled")
            await expect(page.locator("#cancelling")).to_have_count(0)
            assert await flow_process.exit_code() == EXIT_FAILED
            assert app[MANAGER].runs() == []  # not a run of this dashboard
        finally:
            await page.close()
    assert flow_process.cancelled_file.read_text() == "cancelled"
    detail = await get_run(1, url=history_url)
    assert (detail.run.state, detail.run.message) == ("Cancelled", CANCELLED_MESSAGE)
    assert [(t.task_name, t.state) for t in detail.task_runs] == [
        ("prepare", "Success"), ("wait_forever", "Cancelled")]
