"""Notifications: the cost of the handler, and an alert storm against a rate-limited Slack.

Two workloads, the fake Slack (``tests/servers/slack.py``) in a child process, as Slack
is (its CPU time is not the run's):

1. Cost: 1,000 tasks with ``slack_notifier(batch=False)`` on every transition, Slack
   answering after 20 ms and no pacing (``notifications.slack_interval = 0``), so every
   transition is one POST. Against the same flow whose handler only awaits a 20 ms
   sleep. Handlers only queue their message; ``flow.run`` returns once all 2,000 are
   delivered, up to 32 in flight (never two about the same task run).
2. Storm: 1,000 mapped children that fail, ``slack_notifier(only_states=[Failed])`` with
   the default pacing, against a fake Slack that accepts one message per second and
   answers 429 with ``Retry-After: 1`` beyond. Wall time until ``flow.run`` returns,
   that is until every alert is delivered, and the messages that took. It is
   dominated by pacing (the first alert goes at once, the rest one second later, in a
   digest).

Run from the repository root: ``python -m benchmarks.bench_notifications``.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asyncflow import Flow, task
from asyncflow.notifications import slack_notifier
from asyncflow.states import Failed
from tests.servers.slack import FakeSlackProcess

N_TASKS = 1_000
LATENCY = 0.020
ROUNDS = 3
TRANSITIONS = 2  # Pending -> Running -> Success
HEADLINE = re.compile(r"^(\d+) state changes")


@contextmanager
def _setting(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


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


async def _cost_row() -> dict[str, Any]:
    baseline_s = await _best_time(_flow("bench-sleep", _sleep_handler))
    with _setting("ASYNCFLOW__NOTIFICATIONS__SLACK_INTERVAL", "0"):
        async with FakeSlackProcess(delay=LATENCY) as remote:
            flow = _flow("bench-slack", slack_notifier(remote.url(), batch=False))
            asyncflow_s = await _best_time(flow)
    expected = N_TASKS * TRANSITIONS * ROUNDS
    if (remote.counts["requests"], remote.counts["accepted"]) != (expected, expected):
        raise RuntimeError(f"expected {expected} accepted notifications")
    sent = N_TASKS * TRANSITIONS
    return {
        "workload": (
            f"{N_TASKS} tasks, Slack notifier (batch=False, unpaced) on every transition, "
            f"fake Slack in a child process answering after {LATENCY * 1000:.0f} ms"
        ),
        "asyncflow_s": round(asyncflow_s, 4),
        "baseline_s": round(baseline_s, 4),
        "ratio": round(asyncflow_s / baseline_s, 3),
        "notes": (
            f"{sent} messages per run, up to 32 in flight through the webhook's sender "
            f"({sent / asyncflow_s:,.0f}/s); flow.run returns once all are delivered; "
            f"baseline handler awaits a {LATENCY * 1000:.0f} ms sleep; best of {ROUNDS}"
        ),
    }


async def _storm_row() -> dict[str, Any]:
    @task(name="load", state_handlers=[slack_notifier(only_states=[Failed])])
    def load(i: int) -> int:
        raise ValueError(f"bad row {i}")

    with Flow("bench-storm") as flow:
        load.map(list(range(N_TASKS)))

    async with FakeSlackProcess(rate_limit=1.0) as remote:
        start = time.perf_counter()
        state = await flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": remote.url()}})
        elapsed = time.perf_counter() - start
    if not state.is_failed():
        raise RuntimeError(f"the storm flow ended {state!r}")
    payloads = remote.counts["payloads"]
    told = sum(
        int(m[1]) if (m := HEADLINE.match(p["text"])) else 1 for p in payloads
    )
    if told < N_TASKS:
        raise RuntimeError(f"only {told} of {N_TASKS} failures were told")
    return {
        "workload": (
            f"{N_TASKS} failing mapped children, Slack notifier only_states=[Failed], "
            "fake Slack accepting 1 message/s (429 + Retry-After: 1 beyond)"
        ),
        "asyncflow_s": round(elapsed, 3),
        "baseline_s": None,
        "ratio": None,
        "notes": (
            f"until every alert is delivered: {told} failures told in {len(payloads)} "
            f"messages ({remote.counts['requests']} requests, "
            f"{remote.counts['requests'] - remote.counts['accepted']} answered 429); "
            "dominated by the 1 s pacing"
        ),
    }


async def run_benchmarks() -> list[dict[str, Any]]:
    """The cost of the notifier path, and a storm against a rate-limited Slack."""
    return [await _cost_row(), await _storm_row()]


if __name__ == "__main__":
    for row in asyncio.run(run_benchmarks()):
        print(row)
