"""Run a flow's task bodies on Dask: a temporary local cluster, or a running scheduler.

    python examples/dask_flow.py                        # a LocalCluster just for this run
    python examples/dask_flow.py tcp://127.0.0.1:8786   # a scheduler that is already up

(Start one with ``dask scheduler`` and ``dask worker tcp://127.0.0.1:8786``.)

``asyncflow run examples/dask_flow.py -p limit=20000`` runs the module's ``flow`` with the
default executor (bodies in worker threads of this process): the command has no
executor option, so only the script uses Dask.

The flow finds the number below 100,000 with the longest Collatz chain, in 8 chunks:
each chunk is a few hundred milliseconds of pure-Python work, the kind of task that
gains from running on several worker processes. States, retries and handlers stay in this process; only the
task bodies go to the workers. It prints the longest chain found and how many worker
processes took part.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from asyncflow import Flow, Parameter, context, task
from asyncflow.executors import DaskExecutor


def collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


@task
def chunks(limit: int, parts: int) -> list[range]:
    size = -(-limit // parts)
    return [range(start, min(start + size, limit)) for start in range(1, limit, size)]


@task(max_retries=2, retry_delay=1)
def longest_in(numbers: range) -> tuple[int, int, int]:
    """(steps, number, worker pid) for the number with the longest chain in ``numbers``."""
    context.logger.info("chunk %s starts at %s", context.map_index, numbers.start)
    best = max(numbers, key=collatz_steps)
    return collatz_steps(best), best, os.getpid()


@task
async def summarize(found: list[tuple[int, int, int]]) -> dict[str, int]:
    steps, number, _ = max(found)
    return {"number": number, "steps": steps, "processes": len({pid for *_, pid in found})}


def build() -> tuple[Flow, Any]:
    with Flow("collatz") as flow:
        limit = Parameter("limit", default=100_000)
        parts = Parameter("parts", default=8)
        summary = summarize(longest_in.map(chunks(limit, parts)))
    return flow, summary


flow, summary = build()


def main(argv: list[str]) -> dict[str, int]:
    if argv:
        executor = DaskExecutor(argv[0])
    else:
        executor = DaskExecutor(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1})
    state = flow.run_sync(executor=executor)
    print(f"flow: {state!r}")
    found: dict[str, int] = state.result[summary].result
    print(f"longest chain below the limit: {found['number']} takes {found['steps']} steps "
          f"(worker processes used: {found['processes']})")
    return found


if __name__ == "__main__":  # needed: Dask starts worker processes that import this file
    main(sys.argv[1:])
