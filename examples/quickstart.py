"""A first flow: concurrent async steps, a mapped task, retries and persisted results.

Run: python examples/quickstart.py [results-dir]
 or: asyncflow run examples/quickstart.py -p n=3

Every task's return value is written to a local results directory (atomically), so the
run can be inspected afterwards: the script prints where each result lives. The module's
``flow``, which ``asyncflow run`` runs, writes to the ``results.local_dir`` setting
(``~/.asyncflow/results`` unless configured).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from asyncflow import Flow, Parameter, context, task
from asyncflow.results import LocalResult
from asyncflow.states import State


def announce(obj: Any, old: State, new: State) -> None:
    if new.is_retrying():
        print(f"  {obj.name}: {new.message}")


@task
async def list_cities(n: int) -> list[str]:
    await asyncio.sleep(0.01)  # stands for an API call
    return ["Lisbon", "Osaka", "Quito", "Tunis", "Oslo", "Perth"][:n]


@task(max_retries=3, retry_delay=0.05, state_handlers=[announce])
async def fetch_temperature(city: str) -> float:
    await asyncio.sleep(0.02)  # stands for an HTTP request
    if len(city) % 2 == 0 and context.task_run_count == 1:  # a flaky service
        raise ConnectionError(f"weather service timed out for {city}")
    return round(10 + len(city) * 2.5, 1)


@task
def summarize(cities: list[str], temps: list[float]) -> dict[str, Any]:
    warmest = max(zip(temps, cities, strict=True))
    return {"cities": len(cities), "mean": round(sum(temps) / len(temps), 2),
            "warmest": warmest[1]}


def build(results_dir: str | None = None) -> Flow:
    with Flow("weather-report", result=LocalResult(dir=results_dir)) as flow:
        n = Parameter("n", default=5)
        cities = list_cities(n)
        temps = fetch_temperature.map(cities)
        summarize(cities, temps)
    return flow


flow = build()


async def main(results_dir: str) -> int:
    report = build(results_dir)
    state = await report.run(parameters={"n": 5})
    print(f"flow: {state}")
    for t in report.sorted_tasks():
        task_state = state.result[t]
        if task_state.is_mapped():
            children = task_state.map_states
            print(f"  {t.slug:<22} Mapped   -> {len(children)} children, e.g. "
                  f"{children[0]._result.location if children else None}")
        else:
            print(f"  {t.slug:<22} {task_state.name:<8} -> {task_state._result.location}")
    summary = next(t for t in report.tasks if t.name == "summarize")
    print(f"summary: {state.result[summary].result}")
    return 0 if state.is_successful() else 1


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="asyncflow-")
    print(f"results directory: {Path(target).resolve()}")
    sys.exit(asyncio.run(main(target)))
