"""POST {prefix}/{flow_name}/runs: 202 with a run id, or 400 / 404 / 429 with the reason."""

from __future__ import annotations

import io
from typing import Any

import anyio
import pytest
from aiohttp import web

from asyncflow.contrib.aiohttp import RunManager, run_manager_key, setup

from .helpers import Gate, numbers_flow, serve, strict_json


def numbers_app(**options: Any) -> web.Application:
    app = web.Application()
    setup(app, flows=[numbers_flow()], **options)
    return app


def manager_of(app: web.Application) -> RunManager:
    return app[run_manager_key]


@pytest.mark.anyio
async def test_a_run_is_accepted_with_its_id_and_location() -> None:
    app = numbers_app()
    async with serve(app) as client:
        response = await client.post("/flows/numbers/runs", json={"n": 3})
        body = await response.json()

        assert response.status == 202
        assert body["flow"] == "numbers"
        assert body["state"] in {"Scheduled", "Running"}
        assert response.headers["Location"] == f"/flows/runs/{body['run_id']}"
        assert body["events"] == f"/flows/runs/{body['run_id']}/events"
        run = manager_of(app).get(body["run_id"])
        with anyio.fail_after(10):
            final = await run.wait()
        assert final.is_successful()


@pytest.mark.anyio
async def test_the_prefix_is_configurable() -> None:
    async with serve(numbers_app(prefix="/api/v1/")) as client:
        response = await client.post("/api/v1/numbers/runs", json={"n": 1})

        assert response.status == 202
        assert response.headers["Location"].startswith("/api/v1/runs/")
        assert (await client.get(response.headers["Location"])).status == 200


@pytest.mark.anyio
async def test_an_empty_body_means_no_parameters() -> None:
    gate = Gate()
    app = web.Application()
    setup(app, flows=[gate.flow])
    async with serve(app) as client:
        response = await client.post("/flows/gated/runs")
        assert response.status == 202
        gate.open()


@pytest.mark.anyio
async def test_invalid_json_is_a_400_that_says_so() -> None:
    async with serve(numbers_app()) as client:
        response = await client.post(
            "/flows/numbers/runs", data=b'{"n": 3', headers={"Content-Type": "application/json"}
        )
        body = await response.json()

        assert response.status == 400
        assert "not valid JSON" in body["error"]


@pytest.mark.anyio
async def test_a_body_that_is_not_an_object_is_a_400() -> None:
    async with serve(numbers_app()) as client:
        response = await client.post("/flows/numbers/runs", json=[3])
        body = await response.json()

        assert response.status == 400
        assert "JSON object" in body["error"]
        assert "list" in body["error"]


@pytest.mark.anyio
async def test_unknown_parameters_are_a_400_naming_them() -> None:
    app = numbers_app()
    async with serve(app) as client:
        response = await client.post("/flows/numbers/runs", json={"n": 3, "colour": "red"})
        body = await response.json()

        assert response.status == 400
        assert "unknown parameters ['colour']" in body["error"]
        assert manager_of(app).runs() == []


@pytest.mark.anyio
async def test_a_missing_required_parameter_is_a_400_naming_it() -> None:
    async with serve(numbers_app()) as client:
        response = await client.post("/flows/numbers/runs", json={"offset": 2})
        body = await response.json()

        assert response.status == 400
        assert "missing required parameters ['n']" in body["error"]


@pytest.mark.anyio
async def test_an_unknown_flow_is_a_404_listing_the_served_flows() -> None:
    async with serve(numbers_app()) as client:
        response = await client.post("/flows/letters/runs", json={})
        body = await response.json()

        assert response.status == 404
        assert "no flow named 'letters'" in body["error"]
        assert "['numbers']" in body["error"]


@pytest.mark.anyio
async def test_runs_over_the_limit_are_a_429_until_one_finishes() -> None:
    gate = Gate()
    app = web.Application()
    manager = setup(app, flows=[gate.flow], max_concurrent_runs=1)
    async with serve(app) as client:
        first = await client.post("/flows/gated/runs", json={})
        assert first.status == 202

        refused = await client.post("/flows/gated/runs", json={})
        body = await refused.json()
        assert refused.status == 429
        assert "max_concurrent_runs=1" in body["error"]

        gate.open()
        run = manager.get((await first.json())["run_id"])
        with anyio.fail_after(10):
            await run.wait()
        again = await client.post("/flows/gated/runs", json={})
        assert again.status == 202


@pytest.mark.parametrize(("body", "named"), [
    (b'{"n": NaN}', "parameter 'n' is NaN"),
    (b'{"n": Infinity}', "parameter 'n' is Infinity"),
    (b'{"n": -Infinity}', "parameter 'n' is -Infinity"),
    (b'{"n": 1e999}', "parameter 'n' is Infinity"),
    (b'{"n": 1, "offset": {"steps": [0, -1e999]}}',
     "parameter 'offset' (at offset.steps[1]) is -Infinity"),
])
@pytest.mark.anyio
async def test_a_number_that_json_cannot_hold_is_a_400_naming_the_parameter(
    body: bytes, named: str
) -> None:
    app = numbers_app()
    async with serve(app) as client:
        response = await client.post(
            "/flows/numbers/runs", data=body, headers={"Content-Type": "application/json"}
        )
        answer = await strict_json(response)

        assert response.status == 400
        assert named in answer["error"]
        assert "finite number" in answer["error"]
        assert manager_of(app).runs() == []


def _nested(depth: int) -> bytes:
    """A body whose parameter ``n`` makes arrays nest ``depth`` levels, the body included."""
    return b'{"n": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.anyio
async def test_a_deeply_nested_body_is_a_400_not_a_crash() -> None:
    app = numbers_app()
    async with serve(app) as client:
        for body in (b"[" * 100_000, _nested(65)):
            response = await client.post("/flows/numbers/runs", data=body)
            answer = await strict_json(response)

            assert response.status == 400
            assert "at most 64 levels" in answer["error"]
        assert manager_of(app).runs() == []


@pytest.mark.anyio
async def test_nesting_up_to_the_limit_is_accepted_and_brackets_in_strings_never_count() -> None:
    async with serve(numbers_app()) as client:
        deep = await client.post("/flows/numbers/runs", data=_nested(64))
        assert deep.status == 202, await deep.text()
        for text in ("[{" * 1000, '\\"[' * 1000, "\\" * 3 + "[" * 100):
            brackets = await client.post("/flows/numbers/runs", json={"n": text})
            assert brackets.status == 202, await brackets.text()
        escaped_then_deep = b'{"n": "\\\\", "offset": ' + _nested(66)[6:]
        refused = await client.post("/flows/numbers/runs", data=escaped_then_deep)
        assert refused.status == 400, await refused.text()


@pytest.mark.anyio
async def test_a_body_over_client_max_size_is_a_413_that_names_the_limit() -> None:
    app = numbers_app()
    too_big = b'{"n": "' + b"x" * (1024 * 1024) + b'"}'
    async with serve(app) as client:
        response = await client.post("/flows/numbers/runs", data=io.BytesIO(too_big))
        answer = await strict_json(response)

        assert response.status == 413
        assert "1048576 bytes" in answer["error"]
        assert "client_max_size" in answer["error"]
        assert manager_of(app).runs() == []


@pytest.mark.anyio
async def test_the_app_s_client_max_size_sets_the_limit() -> None:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    setup(app, flows=[numbers_flow()])
    async with serve(app) as client:
        response = await client.post(
            "/flows/numbers/runs", data=io.BytesIO(b'{"n": "' + b"x" * (2 * 1024 * 1024) + b'"}')
        )
        assert response.status == 202
