"""Notification throughput: 1,000 tasks, each with a Slack notifier on every transition.

The Slack stand-in (``tests/servers/slack.py``) answers each request after 20 ms. The
baseline is the same flow whose handler only awaits a 20 ms sleep, so the ratio shows
what real HTTP (one shared aiohttp session, Block Kit formatting, JSON) costs over an
ideal handler. Notifications overlap across tasks; per task they stay in order.
Target: ratio <= 2.

Two rows: the fake Slack in a child process (as Slack is: its CPU time is not the
run's), and in the run's own event loop (the worst case: both ends share one core).

Run from the repository root: ``python -m benchmarks.bench_notifications``.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

from asyncflow import Flow, task
from asyncflow.notifications import slack_notifier
from tests.servers.slack import FakeSlack, FakeSlackProcess

psutil: Any = importlib.import_module("psutil")  # installed with distributed; no stubs

N_TASKS = 1_000
LATENCY = 0.020
ROUNDS = 3
TRANSITIONS = 2  # Pending -> Running -> Success


def _flow(name: str, handler: Any) -> Flow:
    @task(name="work", state_handlers=[handler])
    async def work(i: int) -> int:
        return i

    with Flow(name) as flow:
        for i in range(N_TASKS):
            work(i)
    return flow


async def _best_time(flow: Flow) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        state = await flow.run()
        elapsed = time.perf_counter() - start
        if not state.is_successful():
            raise RuntimeError(f"benchmark flow {flow.name!r} ended {state!r}")
        best = min(best, elapsed)
    return best


async def _sleep_handler(obj: Any, old_state: Any, new_state: Any) -> None:
    await asyncio.sleep(LATENCY)


def _row(where: str, asyncflow_s: float, baseline_s: float) -> dict[str, Any]:
    sent = N_TASKS * TRANSITIONS
    return {
        "workload": (
            f"{N_TASKS} tasks, Slack notifier on every transition, fake Slack {where} "
            f"answering after {LATENCY * 1000:.0f} ms"
        ),
        "asyncflow_s": round(asyncflow_s, 4),
        "baseline_s": round(baseline_s, 4),
        "ratio": round(asyncflow_s / baseline_s, 3),
        "notes": (
            f"{sent} notifications per run, {sent / asyncflow_s:,.0f} notifications/s; "
            f"baseline handler awaits a {LATENCY * 1000:.0f} ms sleep; best of {ROUNDS}; "
            "target ratio <= 2"
        ),
    }


async def run_benchmarks() -> list[dict[str, Any]]:
    """The Slack-notified flow against the sleeping-handler flow."""
    baseline_s = await _best_time(_flow("bench-sleep", _sleep_handler))
    rows = []
    remote = FakeSlackProcess(delay=LATENCY)
    async with remote:
        server = psutil.Process(remote.pid)
        cpu_before = sum(server.cpu_times()[:2])
        remote_s = await _best_time(_flow("bench-slack", slack_notifier(remote.url())))
        server_cpu = (sum(server.cpu_times()[:2]) - cpu_before) / ROUNDS
    expected = N_TASKS * TRANSITIONS * ROUNDS
    if remote.counts != {"requests": expected, "accepted": expected}:
        raise RuntimeError(f"expected {expected} accepted notifications, got {remote.counts}")
    rows.append(_row("in a child process", remote_s, baseline_s))
    rows[-1]["notes"] += (
        f"; the fake Slack itself uses {server_cpu:.2f} s of CPU per run "
        f"({server_cpu / (N_TASKS * TRANSITIONS) * 1e6:.0f} us per request), so no client "
        f"could finish a run in less than {server_cpu / baseline_s:.1f}x the baseline"
    )
    async with FakeSlack(delay=LATENCY) as local:
        local_s = await _best_time(_flow("bench-slack-local", slack_notifier(local.url())))
        if len(local.payloads) != expected:
            raise RuntimeError(f"expected {expected} accepted notifications")
    rows.append(_row("in the same event loop", local_s, baseline_s))
    return rows


if __name__ == "__main__":
    for row in asyncio.run(run_benchmarks()):
        print(row)
