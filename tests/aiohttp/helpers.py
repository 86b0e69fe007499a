"""A real aiohttp server on 127.0.0.1 for each test, a server-sent events reader, test flows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from asyncflow import Flow, Parameter, task
from asyncflow.results import JSONResult
from asyncflow.states import State

Client = TestClient[web.Request, web.Application]


def _not_json(constant: str) -> Any:
    raise AssertionError(f"the server sent {constant}, which is not JSON")


def strict_loads(text: str | bytes) -> Any:
    """Parse JSON as a strict parser would: NaN and infinities are an error, not a float."""
    return json.loads(text, parse_constant=_not_json)


async def strict_json(response: aiohttp.ClientResponse) -> Any:
    """The response's body, parsed strictly (see :func:`strict_loads`)."""
    assert response.content_type == "application/json", response.content_type
    return strict_loads(await response.read())


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[Client]:
    """Start ``app`` on a free port of 127.0.0.1; a client for it; stop both afterwards."""
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@dataclass
class Event:
    """One server-sent event."""

    event: str
    data: dict[str, Any]
    id: int | None = None


async def read_event(response: aiohttp.ClientResponse) -> Event | None:
    """The next event of an SSE response (comments skipped); None at the end of the stream."""
    fields: dict[str, str] = {}
    while True:
        line = await response.content.readline()
        if not line:
            return None
        text = line.decode().rstrip("\n")
        if not text:
            if fields:
                raw_id = fields.get("id")
                return Event(
                    event=fields.get("event", "message"),
                    data=strict_loads(fields["data"]),
                    id=int(raw_id) if raw_id is not None else None,
                )
            continue
        if text.startswith(":"):
            continue
        name, _, value = text.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value


async def read_all_events(response: aiohttp.ClientResponse) -> list[Event]:
    """Every event until the server ends the stream."""
    events = []
    while (event := await read_event(response)) is not None:
        events.append(event)
    return events


async def read_until(response: aiohttp.ClientResponse, event_name: str, **match: Any) -> list[Event]:
    """Events up to and including the first ``event_name`` event whose data matches ``match``."""
    events = []
    while True:
        event = await read_event(response)
        assert event is not None, f"the stream ended before a {event_name} {match} event"
        events.append(event)
        if event.event == event_name and all(event.data.get(k) == v for k, v in match.items()):
            return events


def transitions(events: list[Event], task_name: str | None = None) -> list[tuple[str, str]]:
    """``(old, new)`` state names of the flow (``task_name`` None) or of one task."""
    kind = "flow" if task_name is None else "task"
    return [
        (e.data["old"], e.data["new"])
        for e in events
        if e.event == "transition" and e.data["kind"] == kind and e.data["task"] == task_name
    ]


class Gate:
    """A flow whose ``wait`` task blocks until the test opens the gate.

    :meth:`wait_started` waits until that many runs are inside the task body; ``handled``
    collects the states the task's state handler saw, to check that cancellation awaited
    it; ``finished`` is set once that handler saw a final state. The task's result is a
    JSONResult, so its value shows in the run's JSON when the run checkpoints.
    """

    def __init__(self, name: str = "gated") -> None:
        self.gate = asyncio.Event()
        self.entered: list[str] = []
        self.handled: list[str] = []
        self._entered = asyncio.Event()
        self.finished = asyncio.Event()

        def remember(obj: Any, old: State, new: State) -> State:
            self.handled.append(new.name)
            if new.is_finished():
                self.finished.set()
            return new

        @task(name="wait", state_handlers=[remember], result=JSONResult())
        async def wait(label: str) -> str:
            self.entered.append(label)
            self._entered.set()
            await self.gate.wait()
            return f"opened {label}"

        self.wait_task = wait
        with Flow(name) as flow:
            label = Parameter("label", default="gate")
            wait(label)
        self.flow = flow

    async def wait_started(self, n: int = 1) -> None:
        with anyio.fail_after(10):
            while len(self.entered) < n:
                self._entered.clear()
                await self._entered.wait()

    def open(self) -> None:
        self.gate.set()


def numbers_flow() -> Flow:
    """``n`` (required) -> ``double`` -> ``add`` (with ``offset``, default 1)."""

    @task
    async def double(n: int) -> int:
        return n * 2

    @task
    def add(x: int, offset: int) -> int:
        return x + offset

    with Flow("numbers") as flow:
        n = Parameter("n")
        offset = Parameter("offset", default=1)
        add(double(n), offset)
    return flow
