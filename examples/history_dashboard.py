"""Record runs in the history, read them back, and look at them in the dashboard.

Run: python examples/history_dashboard.py [HISTORY_URL]
then: asyncflow ui            (or: python examples/history_dashboard.py --serve)

``asyncflow run examples/history_dashboard.py`` runs the flow once; it is recorded when
the ``history.url`` setting is configured (``ASYNCFLOW__HISTORY__URL``).

Two runs of a small ETL flow are recorded (the second one fails on purpose), to the
database named on the command line or the default ``~/.asyncflow/history.db``. The
script prints what the history holds; ``asyncflow ui`` shows the same runs in a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from asyncflow import Flow, Parameter, history, task
from asyncflow.results import JSONResult


@task
async def extract(day: str) -> list[dict[str, Any]]:
    return [{"day": day, "order": i, "amount": 10.0 * i} for i in range(1, 6)]


@task(result=JSONResult())
async def summarize(orders: list[dict[str, Any]]) -> dict[str, Any]:
    return {"orders": len(orders), "revenue": sum(o["amount"] for o in orders)}


@task(max_retries=1, retry_delay=0.1)
async def load(summary: dict[str, Any], strict: bool) -> None:
    if strict and summary["revenue"] > 100:
        raise ValueError(f"revenue {summary['revenue']} is above the sanity limit of 100")


def build() -> Flow:
    with Flow("daily-sales") as flow:
        day = Parameter("day", default="2024-05-31")
        strict = Parameter("strict", default=False)
        load(summarize(extract(day)), strict)
    return flow


flow = build()


async def record(url: str | None) -> None:
    where = history.configured_url(url)
    await flow.run(history=where)
    await flow.run(parameters={"strict": True}, history=where)

    for run in await history.list_runs(url=where, flow="daily-sales", limit=2):
        detail = await history.get_run(run.id, url=where)
        print(f"run #{run.id} {run.flow_name}: {run.state} ({run.message})")
        for task_run in detail.task_runs:
            line = f"  {task_run.full_name:<10} {task_run.state:<8} retries={task_run.retries}"
            if task_run.result_json is not None:
                line += f" value={task_run.result_json}"
            if task_run.error:
                line += f" error={task_run.error.splitlines()[-1]}"
            print(line)
    print(f"\nrecorded in {where}; see them with: asyncflow ui"
          + ("" if url is None else f" --url {url}"))


def serve(url: str | None) -> None:
    """Serve the dashboard here (what `asyncflow ui` does) until Ctrl-C."""
    from asyncflow._ui import create_app
    from asyncflow._ui.cli import serve as serve_app

    where = history.configured_url(url)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_app(create_app(where), "127.0.0.1", 8080, url=where))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--serve"]
    target = arguments[0] if arguments else None
    asyncio.run(record(target))
    if "--serve" in sys.argv[1:]:
        serve(target)
