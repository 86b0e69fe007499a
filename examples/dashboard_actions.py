"""Start, cancel and restart runs from the dashboard.

Run: asyncflow ui --flows examples/dashboard_actions.py:flow
 or: python examples/dashboard_actions.py            (the same, from Python)

then open http://127.0.0.1:8080/, pick "daily-report" under "Start a run", fill in the
form and press Run. A run with ``slow=true`` takes a minute: press Cancel on its page.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from asyncflow import Flow, Parameter, task
from asyncflow.results import JSONResult


@task
async def orders(day: str, count: int) -> list[dict[str, Any]]:
    return [{"day": day, "order": i, "amount": 12.5 * i} for i in range(1, count + 1)]


@task(result=JSONResult())
async def summarize(rows: list[dict[str, Any]], vat: float, slow: bool) -> dict[str, Any]:
    if slow:
        await asyncio.sleep(60)  # long enough to press Cancel
    revenue = sum(r["amount"] for r in rows)
    return {"orders": len(rows), "revenue": revenue, "with_vat": round(revenue * (1 + vat), 2)}


with Flow("daily-report") as flow:
    day = Parameter("day")  # required: the form marks it
    rows = orders(day, Parameter("count", default=5))
    summarize(rows, Parameter("vat", default=0.2), Parameter("slow", default=False))


if __name__ == "__main__":
    from asyncflow.ui import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(flows=[flow]))
