"""Peak memory per task, measured in a fresh process: ``python -m benchmarks.memory``.

Peak resident memory (``ru_maxrss``) after building and running the flow, minus the
resident memory before building it, divided by the number of tasks.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time

from asyncflow import Flow, task


@task
async def noop() -> None:
    return None


@task
async def inc(x: int) -> int:
    return x + 1


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(kind: str, n: int) -> dict[str, float]:
    before = _rss_kib()
    t0 = time.perf_counter()
    with Flow(kind) as flow:
        if kind == "flow":
            for _ in range(n):
                noop()
        else:
            inc.map(range(n))
    built = time.perf_counter()
    state = asyncio.run(flow.run())
    done = time.perf_counter()
    assert state.is_successful()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"bytes_per_task": (peak - before) * 1024 / n, "build_s": built - t0,
            "run_s": done - built}


def in_subprocess(kind: str, n: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", kind, str(n)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
