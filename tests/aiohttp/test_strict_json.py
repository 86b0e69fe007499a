"""Every JSON answer is strict JSON, even when a value holds a NaN or an infinity."""

from __future__ import annotations

import math
from typing import Any

import anyio
import pytest
from aiohttp import web

from asyncflow import Flow, task
from asyncflow._aiohttp._encoding import dumps
from asyncflow._aiohttp._sse import encode_event
from asyncflow.contrib.aiohttp import setup
from asyncflow.results import JSONResult

from .helpers import numbers_flow, read_all_events, serve, strict_json, strict_loads

NOT_FINITE = {"nan": math.nan, "up": math.inf, "down": -math.inf, "fine": 1.5}
AS_STRINGS = {"nan": "NaN", "up": "Infinity", "down": "-Infinity", "fine": 1.5}


def limits_flow() -> Flow:
    @task(result=JSONResult())
    async def limits() -> dict[str, float]:
        return dict(NOT_FINITE)

    with Flow("limits") as flow:
        limits()
    return flow


def tasks_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in body["tasks"]}


@pytest.mark.anyio
async def test_a_task_value_holding_nan_and_infinities_is_sent_as_strings() -> None:
    app = web.Application()
    manager = setup(app, flows=[limits_flow()], run_options={"checkpointing": True})
    async with serve(app) as client:
        submitted = await strict_json(await client.post("/flows/limits/runs"))
        with anyio.fail_after(10):
            await manager.get(submitted["run_id"]).wait()

        state = await client.get(submitted["url"])
        body = await strict_json(state)
        refused = await strict_json(await client.delete(submitted["url"]))
        events = await read_all_events(await client.get(submitted["events"]))

    assert state.status == 200
    assert tasks_by_name(body)["limits"]["value"] == AS_STRINGS
    assert tasks_by_name(refused["run"])["limits"]["value"] == AS_STRINGS
    assert events[-1].event == "end"
    assert events[-1].data["state"] == "Success"


@pytest.mark.anyio
async def test_parameters_given_from_python_with_an_infinity_are_sent_as_strings() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()], run_options={"checkpointing": True})
    async with serve(app) as client:
        run = manager.submit("numbers", {"n": math.inf})
        with anyio.fail_after(10):
            await run.wait()

        body = await strict_json(await client.get(f"/flows/runs/{run.id}"))

    assert body["parameters"] == {"n": "Infinity"}
    assert tasks_by_name(body)["n"]["value"] == "Infinity"


def test_an_event_holding_a_nan_is_strict_json() -> None:
    chunk = encode_event("transition", {"message": None, "values": [math.nan, {math.inf: 1}]})
    data = chunk.decode().split("data: ", 1)[1].strip()

    assert strict_loads(data) == {"message": None, "values": ["NaN", {"Infinity": 1}]}


def test_a_value_that_holds_itself_is_encoded_without_an_error() -> None:
    looped: list[Any] = [math.nan]
    looped.append(looped)

    assert strict_loads(dumps(looped)) == ["NaN", "<cycle>"]
