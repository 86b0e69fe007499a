"""GET {prefix}/runs/{run_id}/events: server-sent events of every state transition."""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web

from asyncflow import Flow, task
from asyncflow.contrib.aiohttp import RunManager, setup

from .helpers import (
    Client,
    Gate,
    numbers_flow,
    read_all_events,
    read_until,
    serve,
    transitions,
)

FULL_RUN = [("Pending", "Running"), ("Running", "Success")]


async def start(client: Client, flow_name: str, parameters: dict[str, object]) -> str:
    response = await client.post(f"/flows/{flow_name}/runs", json=parameters)
    assert response.status == 202
    run_id: str = (await response.json())["run_id"]
    return run_id


async def finished(manager: RunManager, run_id: str) -> None:
    with anyio.fail_after(10):
        await manager.get(run_id).wait()


@pytest.mark.anyio
async def test_a_finished_run_replays_every_transition_then_ends() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()])
    async with serve(app) as client:
        run_id = await start(client, "numbers", {"n": 2})
        await finished(manager, run_id)

        response = await client.get(f"/flows/runs/{run_id}/events")
        events = await read_all_events(response)

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert [e.id for e in events[:-1]] == list(range(1, len(events)))
    assert all(e.data["run_id"] == run_id for e in events)
    assert transitions(events) == [("Scheduled", "Running"), ("Running", "Success")]
    for name in ("n", "offset", "double", "add"):
        assert transitions(events, name) == FULL_RUN
    double = next(e for e in events if e.data.get("task") == "double")
    assert double.data["slug"] == "double-1"
    assert double.data["map_index"] is None
    assert events[-1].event == "end"
    assert events[-1].id is None
    assert events[-1].data == {
        "run_id": run_id, "flow": "numbers", "state": "Success",
        "message": "All reference tasks succeeded.", "done": True,
    }


@pytest.mark.anyio
async def test_a_live_stream_replays_then_follows_the_run_to_its_end() -> None:
    gate = Gate()
    app = web.Application()
    setup(app, flows=[gate.flow])
    async with serve(app) as client:
        run_id = await start(client, "gated", {})
        await gate.wait_started()
        response = await client.get(f"/flows/runs/{run_id}/events")

        before = await read_until(response, "transition", task="wait", new="Running")
        gate.open()
        after = await read_all_events(response)

    assert transitions(before, "label") == FULL_RUN  # replayed: it ran before we subscribed
    assert transitions(after, "wait") == [("Running", "Success")]
    assert transitions(after) == [("Running", "Success")]
    assert [e.id for e in before + after[:-1]] == list(range(1, len(before) + len(after)))
    assert after[-1].event == "end"
    assert after[-1].data["state"] == "Success"


@pytest.mark.anyio
async def test_concurrent_subscribers_each_get_every_event() -> None:
    gate = Gate()
    app = web.Application()
    setup(app, flows=[gate.flow])
    async with serve(app) as client:
        run_id = await start(client, "gated", {})
        await gate.wait_started()
        streams = [await client.get(f"/flows/runs/{run_id}/events") for _ in range(3)]
        for stream in streams:
            await read_until(stream, "transition", task="wait", new="Running")

        gate.open()
        rest = [await read_all_events(stream) for stream in streams]

    assert rest[0] == rest[1] == rest[2]
    assert [e.event for e in rest[0]] == ["transition", "transition", "end"]


@pytest.mark.anyio
async def test_last_event_id_replays_only_the_events_after_it() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()])
    async with serve(app) as client:
        run_id = await start(client, "numbers", {"n": 2})
        await finished(manager, run_id)
        url = f"/flows/runs/{run_id}/events"
        everything = await read_all_events(await client.get(url))

        resumed = await read_all_events(await client.get(url, headers={"Last-Event-ID": "3"}))
        bad = await client.get(url, headers={"Last-Event-ID": "three"})
        bad_body = await bad.json()

    assert resumed == everything[3:]
    assert resumed[0].id == 4
    assert bad.status == 400
    assert "Last-Event-ID" in bad_body["error"]


@pytest.mark.anyio
async def test_a_bounded_event_log_says_what_it_no_longer_has() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()], max_events_per_run=3)
    async with serve(app) as client:
        run_id = await start(client, "numbers", {"n": 2})
        await finished(manager, run_id)

        events = await read_all_events(await client.get(f"/flows/runs/{run_id}/events"))

    last_id = 10  # 4 tasks x 2 transitions + 2 of the flow
    assert events[0].event == "truncated"
    assert events[0].data["missing_from"] == 1
    assert events[0].data["missing_to"] == last_id - 3
    assert [e.id for e in events[1:4]] == [last_id - 2, last_id - 1, last_id]
    assert events[-1].event == "end"


@pytest.mark.anyio
async def test_a_slow_subscriber_is_closed_with_a_final_event_and_can_resume() -> None:
    gate = Gate()

    @task
    async def step(x: str) -> str:
        return x

    with Flow("long") as flow:
        value = gate.wait_task("go")
        for _ in range(20):
            value = step(value)
    app = web.Application()
    manager = setup(app, flows=[flow], subscriber_queue_size=1)
    async with serve(app) as client:
        run_id = await start(client, "long", {})
        await gate.wait_started()
        url = f"/flows/runs/{run_id}/events"
        stream = await client.get(url)
        seen = await read_until(stream, "transition", task="wait", new="Running")

        gate.open()  # about 40 transitions at once: far more than one buffered event
        seen += await read_all_events(stream)
        await finished(manager, run_id)
        overflow = seen.pop()
        resumed = await read_all_events(
            await client.get(url, headers={"Last-Event-ID": str(overflow.data["last_id"])})
        )

    assert overflow.event == "overflow"
    assert "fell too far behind" in overflow.data["reason"]
    assert overflow.data["last_id"] == seen[-1].id
    assert resumed[-1].event == "end"
    assert resumed[-1].data["state"] == "Success"
    ids = [e.id for e in seen + resumed[:-1]]
    assert ids == list(range(1, len(ids) + 1))
    assert len(ids) == 2 + 2 * 21  # the flow, the gate task and 20 steps


@pytest.mark.anyio
async def test_events_of_an_unknown_run_are_a_404() -> None:
    app = web.Application()
    setup(app, flows=[numbers_flow()])
    async with serve(app) as client:
        response = await client.get("/flows/runs/nope/events")

        assert response.status == 404
        assert "no run with id 'nope'" in (await response.json())["error"]
