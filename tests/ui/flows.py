"""Small flows whose runs the dashboard tests look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asyncflow import Flow, Parameter, task
from asyncflow.results import JSONResult, LocalResult

#: A value that must never appear on a page: it is only ever pickled into a file.
PICKLED_MARKER = "pickled-value-7c1e"


@task
async def extract(n: int) -> list[int]:
    return list(range(n))


@task(result=JSONResult())
async def summarize(values: list[int]) -> dict[str, Any]:
    return {"count": len(values), "total": sum(values)}


@task(max_retries=1, retry_delay=0)
async def load(summary: dict[str, Any]) -> None:
    raise ValueError(f"warehouse rejected {summary['count']} rows")


def etl_flow(results_dir: Path) -> Flow:
    @task(result=LocalResult(dir=results_dir))
    async def archive(values: list[int]) -> dict[str, str]:
        return {"secret": PICKLED_MARKER}

    with Flow("etl") as flow:
        n = Parameter("n", default=3)
        values = extract(n)
        summary = summarize(values)
        archive(values)
        load(summary)
    return flow
