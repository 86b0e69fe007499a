"""Flows that the dashboard's action tests start, cancel and look at."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asyncflow import Flow, Parameter, task
from asyncflow.results import LocalResult


@task
async def total(n: int, step: float, shout: bool, label: str) -> str:
    text = f"{label}: {sum(range(n)) * step}"
    return text.upper() if shout else text


def sums_flow() -> Flow:
    """``sums``: an int, a float, a bool, a str and a required JSON-or-text parameter."""
    with Flow("sums") as flow:
        total(Parameter("n", default=3), Parameter("step", default=1.0),
              Parameter("shout", default=False), Parameter("label", default="sum"))
        Parameter("batch")  # required: no default
    return flow


class Gate:
    """A flow (``gated``) whose task waits for :attr:`release`, then returns its parameter
    ``n`` (default 1) doubled: its run goes on until the test lets it, or until it is
    cancelled (then :attr:`cancelled` is set)."""

    def __init__(self, name: str = "gated") -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()

        @task
        async def wait_for_release(n: int) -> int:
            self.started.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return 2 * n

        with Flow(name) as flow:
            wait_for_release(Parameter("n", default=1))
        self.flow = flow


class Flaky:
    """A flow (``flaky``): ``extract`` -> ``transform`` -> ``load``, each result kept in
    ``results``; ``transform`` fails while :attr:`broken` is true. :attr:`calls` lists
    the task bodies that ran, in order."""

    def __init__(self, results: Path) -> None:
        self.broken = True
        self.calls: list[str] = []

        @task
        def extract() -> int:
            self.calls.append("extract")
            return 20

        @task
        def transform(x: int) -> int:
            self.calls.append("transform")
            if self.broken:
                raise RuntimeError("transform is broken")
            return x + 1

        @task
        def load(y: int) -> int:
            self.calls.append("load")
            return 2 * y

        with Flow("flaky", result=LocalResult(dir=str(results))) as flow:
            load(transform(extract()))
        self.flow = flow
