"""The dashboard's actions in headless Chromium: start a run from its form and watch it
succeed, see bad parameters named on the form, cancel a running run, restart a failed
one from its failure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import playwright.async_api
import pytest

from asyncflow._ui._actions import MANAGER
from asyncflow.history import get_run, list_runs
from tests.ui.action_flows import Flaky, Gate, sums_flow
from tests.ui.helpers import dashboard_with, follow_restart_links

pytestmark = pytest.mark.anyio
expect: Any = playwright.async_api.expect


async def test_a_run_started_from_its_form_goes_live_and_succeeds(
    browser: Any, history_url: str
) -> None:
    gate = Gate()
    async with dashboard_with(history_url, gate.flow, sums_flow()) as (app, base):
        page = await browser.new_page()
        try:
            await page.goto(base)
            await page.locator("#start-run a[data-flow='gated']").click()
            await expect(page.locator("h1")).to_have_text("Start a run of gated")
            await expect(page.locator("#param-n")).to_have_value("1")
            await page.locator("#param-n").fill("21")
            await page.locator("#run-button").click()
            await expect(page).to_have_url(re.compile(r"/runs/1$"))
            run_state = page.locator("#run-state")
            waiting = page.locator("#task-runs tr", has_text="wait_for_release").locator(
                ".state")
            await expect(run_state).to_have_text("Running")
            await expect(page.locator("#live-status")).to_be_visible()
            await expect(page.locator("#cancel-run")).to_be_visible()
            assert gate.started.is_set()
            gate.release.set()
            await expect(run_state).to_have_text("Success")
            await expect(waiting).to_have_text("Success")
            await expect(page.locator("#cancel-run")).to_have_count(0)  # reloaded at the end
            await expect(page.locator("dl.meta")).to_contain_text('"n": 21')
            assert app[MANAGER].active_runs == 0
        finally:
            await page.close()
    (run,) = await list_runs(url=history_url)
    assert (run.state, run.parameters) == ("Success", {"n": 21})


async def test_bad_parameters_are_shown_on_the_form_and_nothing_runs(
    browser: Any, history_url: str
) -> None:
    async with dashboard_with(history_url, sums_flow()) as (app, base):
        page = await browser.new_page()
        try:
            await page.goto(base + "flows/sums")
            await expect(page.locator(".field[data-param='batch'] .required")).to_have_text(
                "required")
            await page.locator("#param-n").fill("four")
            await page.locator("#param-step").fill("1e999")
            await page.locator("#param-batch").fill("[1, 2")
            await page.locator("#run-button").click()
            await expect(page.locator("#form-errors")).to_contain_text("Nothing was started")
            await expect(page.locator(".field-error[data-param='n']")).to_have_text(
                "n: must be a whole number such as 3, not 'four'")
            await expect(page.locator(".field-error[data-param='step']")).to_have_text(
                "step: must be a finite number such as 0.5, not '1e999'")
            await expect(page.locator("#param-n")).to_have_value("four")
            await expect(page.locator(".field-error")).to_have_count(2)  # batch is JSON or text
            assert app[MANAGER].runs() == []
        finally:
            await page.close()
    assert await list_runs(url=history_url) == []


async def test_cancel_stops_a_running_run_and_its_page_says_cancelled(
    browser: Any, history_url: str
) -> None:
    gate = Gate()
    async with dashboard_with(history_url, gate.flow) as (app, base):
        page = await browser.new_page()
        try:
            await page.goto(base + "flows/gated")
            await page.locator("#run-button").click()
            await expect(page).to_have_url(re.compile(r"/runs/1$"))
            await gate.started.wait()
            await expect(page.locator("#run-state")).to_have_text("Running")
            await page.locator("#cancel-run").click()
            await expect(page.locator("#run-state")).to_have_text("Cancelled")
            await expect(page.locator("#task-runs tr", has_text="wait_for_release").locator(
                ".state")).to_have_text("Cancelled")
            await expect(page.locator("#cancel-run")).to_have_count(0)
            assert gate.cancelled.is_set()
            assert app[MANAGER].active_runs == 0
        finally:
            await page.close()
    (run,) = await list_runs(url=history_url)
    assert run.state == "Cancelled"
    assert [t.state for t in (await get_run(run.id, url=history_url)).task_runs] == [
        "Success", "Cancelled"]


async def test_restart_from_failure_runs_only_what_did_not_succeed_and_links_both_runs(
    browser: Any, history_url: str, tmp_path: Path
) -> None:
    flaky = Flaky(tmp_path / "results")
    async with dashboard_with(history_url, flaky.flow) as (app, base):
        page = await browser.new_page()
        try:
            await page.goto(base + "flows/flaky")
            await page.locator("#run-button").click()
            await expect(page).to_have_url(re.compile(r"/runs/1$"))
            await expect(page.locator("#run-state")).to_have_text("Failed")
            await expect(page.locator("#task-runs tr", has_text="transform").locator(
                ".state")).to_have_text("Failed")
            assert flaky.calls == ["extract", "transform"]

            flaky.broken = False  # the bug is fixed
            await page.locator("#restart-run").click()
            await expect(page).to_have_url(re.compile(r"/runs/2$"))
            await expect(page.locator("#run-state")).to_have_text("Success")
            await expect(page.locator("#task-runs tr", has_text="load").locator(
                ".state")).to_have_text("Success")
            await expect(page.locator("#restart-run")).to_have_count(0)

            await follow_restart_links(page, 1, 2)
            assert app[MANAGER].active_runs == 0
        finally:
            await page.close()
    assert flaky.calls == ["extract", "transform", "transform", "load"]
    runs = await list_runs(url=history_url)
    assert [(r.id, r.state, r.restart_of) for r in runs] == [
        (2, "Success", 1), (1, "Failed", None)]
    task_runs = (await get_run(2, url=history_url, transitions=True)).task_runs
    ran = [t.task_name for t in task_runs
           if any(step.new_state == "Running" for step in t.transitions)]
    assert ran == ["transform", "load"]
    kept = {t.task_name: t for t in task_runs}["extract"]
    assert kept.state == "Success"
    assert (kept.message or "").startswith("Kept from flow run 1")
