"""Take the README's screenshot of the dashboard's run page (``docs/images/run-page.png``).

Run from the repository root: ``python -m tests.ui.screenshot [output.png]``. It records
one run of a small ETL flow (mapped tasks, a retry, a JSON result, a failure) in a
temporary history, serves the dashboard on 127.0.0.1 and photographs the run page with
headless Chromium (``/usr/bin/chromium``, driven by Playwright).
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from asyncflow import Flow, Parameter, task
from asyncflow._ui import create_app
from asyncflow.results import JSONResult, LocalResult
from tests.ui.helpers import CHROMIUM, CHROMIUM_ARGS, serve

OUTPUT = Path("docs/images/run-page.png")


def _flow(results: Path) -> Flow:
    attempts: list[int] = []

    @task
    async def list_files(day: str) -> list[str]:
        return [f"s3://landing/{day}/orders-{i}.csv" for i in range(4)]

    @task(result=LocalResult(dir=results))
    async def parse(path: str) -> list[dict[str, Any]]:
        await asyncio.sleep(random.uniform(0.02, 0.08))
        return [{"path": path, "rows": 250}]

    @task(max_retries=2, retry_delay=0.05)
    async def fetch_rates(day: str) -> dict[str, float]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("rates API timed out")
        return {"EUR": 1.0, "USD": 1.09}

    @task(result=JSONResult())
    async def summarize(batches: list[list[dict[str, Any]]], rates: dict[str, float]
                        ) -> dict[str, Any]:
        return {"files": len(batches), "rows": sum(b[0]["rows"] for b in batches),
                "currencies": sorted(rates)}

    @task
    async def load(summary: dict[str, Any]) -> None:
        raise PermissionError("warehouse: role 'etl' may not write to table 'orders'")

    @task
    async def notify(summary: dict[str, Any]) -> str:
        return "sent"

    with Flow("daily-orders") as flow:
        day = Parameter("day", default="2024-05-31")
        files = list_files(day)
        batches = parse.map(files)
        summary = summarize(batches, fetch_rates(day))
        load(summary)
        notify(summary)
    return flow


async def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'history.db'}"
        await _flow(Path(tmp) / "results").run(history=url, checkpointing=True)
        runner, base = await serve(create_app(url))
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM,
                                                  args=CHROMIUM_ARGS)
                page = await browser.new_page(viewport={"width": 1280, "height": 1000},
                                              device_scale_factor=1)
                await page.goto(base + "runs/1")
                await page.locator("#dag svg").wait_for()
                output.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(output), full_page=True)
                await browser.close()
        finally:
            await runner.cleanup()
    print(f"wrote {output}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
