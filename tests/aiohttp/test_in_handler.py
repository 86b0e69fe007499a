"""``await flow.run()`` straight inside a request handler, sharing the app's ClientSession."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import anyio
import pytest
from aiohttp import web

from asyncflow import Flow, Parameter, context, task, unmapped

from .helpers import Gate, serve

http_key = web.AppKey("http", aiohttp.ClientSession)


@task(max_retries=1, retry_delay=0)
async def fetch_double(base: str, n: int) -> int:
    session: aiohttp.ClientSession = context.http
    async with session.get(f"{base}/double/{n}") as response:
        response.raise_for_status()
        value: int = (await response.json())["value"]
        return value


@task
def total(values: list[int]) -> int:
    return sum(values)


with Flow("sum-of-doubles") as sum_flow:
    base = Parameter("base")
    numbers = Parameter("numbers")
    result = total(fetch_double.map(base=unmapped(base), n=numbers))


async def double(request: web.Request) -> web.Response:
    return web.json_response({"value": 2 * int(request.match_info["n"])})


async def sum_of_doubles(request: web.Request) -> web.Response:
    numbers = (await request.json())["numbers"]
    state = await sum_flow.run(
        parameters={"base": str(request.url.origin()), "numbers": numbers},
        context={"http": request.app[http_key]},
    )
    if not state.is_successful():
        return web.json_response({"state": state.name, "message": state.message}, status=500)
    return web.json_response({"state": state.name, "total": state.result[result].result})


async def http_session(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[http_key] = session
        yield


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(http_session)
    app.router.add_get("/double/{n}", double)
    app.router.add_post("/sum", sum_of_doubles)
    return app


@pytest.mark.anyio
async def test_a_handler_awaits_a_flow_whose_tasks_share_the_app_session() -> None:
    app = make_app()
    async with serve(app) as client:
        first = await client.post("/sum", json={"numbers": [1, 2, 3]})
        first_body = await first.json()
        second = await client.post("/sum", json={"numbers": [10]})
        second_body = await second.json()
        session = app[http_key]
        assert not session.closed  # the runs used the app's session and left it open

    assert first.status == 200
    assert first_body == {"state": "Success", "total": 12}
    assert second_body == {"state": "Success", "total": 20}
    assert session.closed  # closed by the app's cleanup, with no warning


@pytest.mark.anyio
async def test_concurrent_handlers_each_run_their_own_flow() -> None:
    app = make_app()
    bodies: dict[int, object] = {}
    async with serve(app) as client:

        async def call(n: int) -> None:
            response = await client.post("/sum", json={"numbers": list(range(n))})
            bodies[n] = await response.json()

        async with anyio.create_task_group() as group:
            for n in (3, 5, 8):
                group.start_soon(call, n)

    assert bodies == {
        3: {"state": "Success", "total": 6},
        5: {"state": "Success", "total": 20},
        8: {"state": "Success", "total": 56},
    }


@pytest.mark.anyio
async def test_a_handler_cancelled_by_a_client_disconnect_cancels_its_run() -> None:
    gate = Gate()

    async def run_gated(request: web.Request) -> web.Response:
        state = await gate.flow.run()
        return web.json_response({"state": state.name})

    app = web.Application()
    app.router.add_post("/gated", run_gated)
    async with serve(app) as client:
        async with anyio.create_task_group() as group:
            group.start_soon(client.post, "/gated")
            await gate.wait_started()
            group.cancel_scope.cancel()  # the client gives up: its connection closes

        with anyio.fail_after(10):
            await gate.finished.wait()

    assert gate.handled == ["Running", "Cancelled"]
