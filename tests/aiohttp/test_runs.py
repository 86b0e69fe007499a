"""GET and DELETE {prefix}/runs/{run_id}: a run's state as JSON, and cancelling it."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from aiohttp import web

from asyncflow import Flow, task
from asyncflow.contrib.aiohttp import RunManager, setup

from .helpers import Gate, numbers_flow, serve


def tasks_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in body["tasks"]}


async def finished(manager: RunManager, run_id: str) -> None:
    with anyio.fail_after(10):
        await manager.get(run_id).wait()


@pytest.mark.anyio
async def test_get_shows_the_flow_state_and_every_task() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()], run_options={"checkpointing": True})
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/numbers/runs", json={"n": 4})).json())["run_id"]
        await finished(manager, run_id)

        response = await client.get(f"/flows/runs/{run_id}")
        body = await response.json()

    assert response.status == 200
    assert body["run_id"] == run_id
    assert body["flow"] == "numbers"
    assert body["state"] == "Success"
    assert body["done"] is True
    assert body["parameters"] == {"n": 4}
    assert body["finished_at"] is not None
    tasks = tasks_by_name(body)
    assert set(tasks) == {"n", "offset", "double", "add"}
    assert tasks["double"]["slug"] == "double-1"
    assert tasks["double"]["state"] == "Success"
    assert tasks["double"]["message"] == "Task run succeeded."
    assert tasks["double"]["run_count"] == 1


@pytest.mark.anyio
async def test_values_show_only_for_json_results_never_for_pickled_ones() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()], run_options={"checkpointing": True})
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/numbers/runs", json={"n": 4})).json())["run_id"]
        await finished(manager, run_id)
        tasks = tasks_by_name(await (await client.get(f"/flows/runs/{run_id}")).json())

    # Parameters store their values with a JSONResult: the value is shown with its location.
    assert tasks["n"]["value"] == 4
    assert tasks["n"]["location"] == "4"
    assert tasks["offset"]["value"] == 1
    # An ordinary task keeps its value in memory: neither a value nor a location.
    assert "value" not in tasks["add"]
    assert tasks["add"]["location"] is None


@pytest.mark.anyio
async def test_a_running_task_shows_as_running_and_later_ones_as_pending() -> None:
    gate = Gate()

    @task
    async def after(text: str) -> str:
        return text.upper()

    with Flow("gated-then") as flow:
        after(gate.wait_task("x"))
    app = web.Application()
    manager = setup(app, flows=[flow])
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/gated-then/runs", json={})).json())["run_id"]
        await gate.wait_started()

        body = await (await client.get(f"/flows/runs/{run_id}")).json()
        gate.open()
        await finished(manager, run_id)

    tasks = tasks_by_name(body)
    assert body["state"] == "Running"
    assert body["done"] is False
    assert tasks["wait"]["state"] == "Running"
    assert tasks["after"]["state"] == "Pending"
    assert tasks["after"]["message"] is None


@pytest.mark.anyio
async def test_mapped_tasks_show_their_children_counts() -> None:
    @task
    async def invert(x: int) -> float:
        return 1 / x

    with Flow("inverses") as flow:
        invert.map([1, 0, 2])
    app = web.Application()
    manager = setup(app, flows=[flow])
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/inverses/runs", json={})).json())["run_id"]
        await finished(manager, run_id)
        body = await (await client.get(f"/flows/runs/{run_id}")).json()

    mapped = tasks_by_name(body)["invert"]
    assert body["state"] == "Failed"
    assert mapped["state"] == "Mapped"
    assert mapped["children"] == {"total": 3, "states": {"Failed": 1, "Success": 2}}


@pytest.mark.anyio
async def test_an_unknown_run_is_a_404() -> None:
    app = web.Application()
    setup(app, flows=[numbers_flow()])
    async with serve(app) as client:
        for method in ("GET", "DELETE"):
            response = await client.request(method, "/flows/runs/no-such-run")
            body = await response.json()
            assert response.status == 404
            assert "no run with id 'no-such-run'" in body["error"]


@pytest.mark.anyio
async def test_delete_cancels_a_running_flow_and_awaits_its_handlers() -> None:
    gate = Gate()
    app = web.Application()
    setup(app, flows=[gate.flow])
    async with serve(app) as client:
        location = (await client.post("/flows/gated/runs", json={})).headers["Location"]
        await gate.wait_started()

        response = await client.delete(location)
        body = await response.json()
        after = await (await client.get(location)).json()

    assert response.status == 200
    assert body["state"] == "Cancelled"
    assert body["done"] is True
    assert tasks_by_name(body)["wait"]["state"] == "Cancelled"
    assert gate.handled == ["Running", "Cancelled"]
    assert after["state"] == "Cancelled"


@pytest.mark.anyio
async def test_delete_of_a_finished_run_is_a_409_with_its_state() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()])
    async with serve(app) as client:
        run_id = (await (await client.post("/flows/numbers/runs", json={"n": 1})).json())["run_id"]
        await finished(manager, run_id)

        response = await client.delete(f"/flows/runs/{run_id}")
        body = await response.json()

    assert response.status == 409
    assert "already finished in state Success" in body["error"]
    assert body["run"]["state"] == "Success"


@pytest.mark.anyio
async def test_two_runs_of_one_flow_run_concurrently_and_separately() -> None:
    gate = Gate()
    app = web.Application()
    manager = setup(app, flows=[gate.flow], run_options={"checkpointing": True})
    async with serve(app) as client:
        ids = []
        for label in ("a", "b"):
            response = await client.post("/flows/gated/runs", json={"label": label})
            ids.append((await response.json())["run_id"])
        await gate.wait_started(2)
        running = [await (await client.get(f"/flows/runs/{i}")).json() for i in ids]
        assert manager.active_runs == 2

        gate.open()
        for run_id in ids:
            await finished(manager, run_id)
        done = [await (await client.get(f"/flows/runs/{i}")).json() for i in ids]

    assert sorted(gate.entered) == ["a", "b"]
    assert [r["state"] for r in running] == ["Running", "Running"]
    assert [tasks_by_name(r)["wait"]["state"] for r in running] == ["Running", "Running"]
    assert [r["state"] for r in done] == ["Success", "Success"]
    assert [tasks_by_name(r)["wait"]["value"] for r in done] == ["opened a", "opened b"]
    assert manager.active_runs == 0


@pytest.mark.anyio
async def test_only_the_most_recent_finished_runs_are_kept() -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()], keep_finished_runs=2)
    async with serve(app) as client:
        ids = []
        for n in range(3):
            run_id = (await (await client.post("/flows/numbers/runs", json={"n": n})).json())["run_id"]
            await finished(manager, run_id)
            ids.append(run_id)

        statuses = [(await client.get(f"/flows/runs/{i}")).status for i in ids]

    assert statuses == [404, 200, 200]
    assert [r.id for r in manager.runs()] == ids[1:]


@pytest.mark.anyio
async def test_a_run_the_engine_refuses_to_start_ends_failed_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = web.Application()
    manager = setup(app, flows=[numbers_flow()], run_options={"max_concurrency": 0})
    async with serve(app) as client:
        response = await client.post("/flows/numbers/runs", json={"n": 1})
        run_id = (await response.json())["run_id"]
        await finished(manager, run_id)
        body = await (await client.get(f"/flows/runs/{run_id}")).json()

    assert response.status == 202
    assert body["state"] == "Failed"
    assert "max_concurrency must be an int >= 1" in body["message"]
    assert manager.active_runs == 0
    assert run_id in caplog.text
