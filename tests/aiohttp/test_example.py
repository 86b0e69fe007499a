"""examples/aiohttp_service.py, served on 127.0.0.1 and driven over HTTP."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .helpers import Client, read_all_events, serve, transitions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aiohttp_service.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asyncflow_example_aiohttp_service", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def run_to_the_end(client: Client, flow: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Start a run, follow its events to the end; the run's JSON."""
    response = await client.post(f"/flows/{flow}/runs", json=parameters)
    assert response.status == 202, await response.text()
    events = await read_all_events(await client.get(response.headers["Location"] + "/events"))
    assert events[-1].event == "end"
    assert transitions(events)[-1][0] == "Running"
    body: dict[str, Any] = await (await client.get(response.headers["Location"])).json()
    return body


def values(run: dict[str, Any]) -> dict[str, Any]:
    return {t["name"]: t.get("value") for t in run["tasks"]}


@pytest.mark.anyio
async def test_word_stats_runs_in_the_background(example: ModuleType) -> None:
    async with serve(example.create_app()) as client:
        run = await run_to_the_end(client, "word-stats", {"text": "to be or not to be", "top": 2})

    assert run["state"] == "Success"
    assert values(run)["count_words"] == 6
    assert values(run)["most_common"] == [["to", 2], ["be", 2]]


@pytest.mark.anyio
async def test_link_check_uses_the_shared_session_against_the_service(
    example: ModuleType,
) -> None:
    paths = ["/pages/home", "/pages/missing-one", "/pages/about"]
    async with serve(example.create_app()) as client:
        run = await run_to_the_end(client, "link-check", {"paths": paths})

    check = next(t for t in run["tasks"] if t["name"] == "check")
    assert run["state"] == "Success"
    assert check["children"] == {"total": 3, "states": {"Success": 3}}
    assert values(run)["summarize"] == {"checked": 3, "broken": ["/pages/missing-one"]}


@pytest.mark.anyio
async def test_a_flow_awaited_inside_a_handler(example: ModuleType) -> None:
    async with serve(example.create_app()) as client:
        response = await client.get("/word-stats", params={"text": "a b a c a"})
        body = await response.json()

    assert response.status == 200
    assert body == {"words": 5, "top": [["a", 3], ["b", 1], ["c", 1]]}


@pytest.mark.anyio
async def test_bad_requests_get_the_reason(example: ModuleType) -> None:
    async with serve(example.create_app()) as client:
        missing = await client.post("/flows/word-stats/runs", json={})
        missing_body = await missing.json()
        unknown = await client.post("/flows/nope/runs", json={})

    assert missing.status == 400
    assert "missing required parameters ['text']" in missing_body["error"]
    assert unknown.status == 404
