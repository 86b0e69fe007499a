"""The dashboard in headless Chromium: a killed run shows as Crashed, restarts link both ways."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import anyio.to_thread
import playwright.async_api
import pytest

from asyncflow.cli._loading import load_flow
from tests.history.test_restart_crash import _FLOW, _run_and_kill
from tests.ui.helpers import Dashboard, follow_restart_links

pytestmark = pytest.mark.anyio
expect: Any = playwright.async_api.expect


async def test_a_crashed_run_and_its_restart_link_to_each_other(
    browser: Any, dashboard: Dashboard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow_file = tmp_path / "long_flow.py"
    flow_file.write_text(_FLOW)
    line, returncode = await anyio.to_thread.run_sync(
        _run_and_kill, tmp_path, flow_file, dashboard.url)
    assert line == b"ready\n" and returncode == -signal.SIGKILL

    page = await browser.new_page()
    try:
        await page.goto(dashboard.base)
        await expect(page.locator("#runs tr[data-run='1'] .state")).to_have_text("Crashed")
        await page.goto(dashboard.base + "runs/1")
        await expect(page.locator("#run-state")).to_have_text("Crashed")
        announce = page.locator("#task-runs tr", has_text="announce")
        await expect(announce.locator(".state")).to_have_text("Crashed")
        await expect(page.locator("#restart-hint")).to_contain_text("--restart 1")

        monkeypatch.setenv("CALLS_FILE", str(tmp_path / "calls.txt"))
        monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "results"))
        flow = load_flow(str(flow_file))
        state = await flow.run(history=dashboard.url, checkpointing=True, restart_from="last")
        assert state.is_successful()

        await page.goto(dashboard.base + "runs/2")
        await expect(page.locator("#run-state")).to_have_text("Success")
        await follow_restart_links(page, 1, 2)
    finally:
        await page.close()
