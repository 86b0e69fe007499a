"""The dashboard's actions over HTTP: read-only without flows, CSRF and token refusals,
bad parameters, limits, and runs started, recorded and cancelled (aiohttp test client)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from asyncflow import Flow, task
from asyncflow._ui import create_app
from asyncflow._ui._actions import MANAGER
from asyncflow.history import get_run, list_runs
from tests.ui.action_flows import Gate, sums_flow

pytestmark = pytest.mark.anyio


async def count_runs(*, url: str) -> int:
    return len(await list_runs(url=url))


@asynccontextmanager
async def client_for(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


async def csrf_token(client: TestClient[web.Request, web.Application], path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', await response.text())
    assert found, "no CSRF token in the page"
    return found.group(1)


async def test_without_flows_the_dashboard_stays_read_only(history_url: str) -> None:
    @task
    async def fine() -> int:
        return 1

    with Flow("plain") as flow:
        fine()
    await flow.run(history=history_url)
    async with client_for(create_app(history_url)) as client:
        for path in ("/", "/runs/1"):
            page = await (await client.get(path)).text()
            assert "<form" not in page.replace('<form class="filters" method="get"', "")
            assert "csrf_token" not in page and "start-run" not in page
        assert (await client.get("/flows/plain")).status == 404
        for path in ("/flows/plain/runs", "/runs/1/cancel", "/runs/1/restart"):
            assert (await client.post(path)).status == 404, path
        for path in ("/", "/runs/1"):
            assert (await client.post(path)).status == 405, path
    assert await count_runs(url=history_url) == 1


async def test_the_runs_list_offers_each_registered_flow(history_url: str) -> None:
    app = create_app(history_url, flows=[sums_flow(), Gate().flow])
    async with client_for(app) as client:
        page = await (await client.get("/")).text()
    assert re.findall(r'<a href="(/flows/[^"]+)" data-flow', page) == [
        "/flows/gated", "/flows/sums"]


async def test_the_form_marks_required_parameters_and_shows_defaults(history_url: str) -> None:
    async with client_for(create_app(history_url, flows=[sums_flow()])) as client:
        page = await (await client.get("/flows/sums")).text()
        assert (await client.get("/flows/other")).status == 404
    assert re.search(r'name="p:batch" required aria-required="true"', page)
    assert 'name="p:n" value="3" inputmode="numeric"' in page
    assert '<option value="false" selected>false</option>' in page
    assert page.count('class="required"') == 1


async def test_a_run_started_from_the_form_is_recorded_and_its_page_shown(
    history_url: str
) -> None:
    async with client_for(create_app(history_url, flows=[sums_flow()])) as client:
        token = await csrf_token(client, "/flows/sums")
        response = await client.post("/flows/sums/runs", allow_redirects=False, data={
            "csrf_token": token, "p:n": "4", "p:shout": "true", "p:batch": "[7]"})
        assert response.status == 303
        assert response.headers["Location"] == "/runs/1"
        await client.app[MANAGER].runs()[0].wait()
    (run,) = await list_runs(url=history_url)
    assert (run.flow_name, run.state) == ("sums", "Success")
    assert run.parameters == {"n": 4, "step": 1.0, "shout": True, "label": "sum", "batch": [7]}
    detail = await get_run(run.id, url=history_url)
    assert [t.state for t in detail.task_runs if t.task_name == "total"] == ["Success"]


async def test_bad_parameters_are_named_on_the_form_and_nothing_runs(history_url: str) -> None:
    async with client_for(create_app(history_url, flows=[sums_flow()])) as client:
        token = await csrf_token(client, "/flows/sums")
        response = await client.post("/flows/sums/runs", data={
            "csrf_token": token, "p:n": "four", "p:step": "0.5"})
        page = await response.text()
        assert client.app[MANAGER].runs() == []
    assert response.status == 400
    assert 'data-param="n">n: must be a whole number such as 3, not &#x27;four&#x27;' in page
    assert "batch: is required: give it a value" in page
    assert 'name="p:step" value="0.5"' in page  # what was typed is kept
    assert await count_runs(url=history_url) == 0


async def test_an_action_without_the_session_csrf_token_is_refused(history_url: str) -> None:
    async with client_for(create_app(history_url, flows=[sums_flow()])) as client:
        form = {"p:batch": "1"}
        response = await client.post("/flows/sums/runs", data=form)
        assert response.status == 403
        assert "needs the dashboard's session cookie" in await response.text()

        token = await csrf_token(client, "/flows/sums")
        for given in (None, "", "0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1")):
            data = form if given is None else {**form, "csrf_token": given}
            response = await client.post("/flows/sums/runs", data=data)
            assert response.status == 403, given
            assert "CSRF token is missing or does not match" in await response.text()

        client.session.cookie_jar.clear()  # a new session: the old session's token is void
        await client.get("/")
        response = await client.post("/flows/sums/runs", data={**form, "csrf_token": token})
        assert response.status == 403
        assert client.app[MANAGER].runs() == []


async def test_the_session_cookie_is_http_only_and_strict(history_url: str) -> None:
    async with client_for(create_app(history_url, flows=[sums_flow()])) as client:
        response = await client.get("/")
    cookie = response.cookies["asyncflow_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["max-age"] and not cookie["expires"]


async def test_with_a_dashboard_token_an_action_also_needs_the_token(history_url: str) -> None:
    app = create_app(history_url, token="s3cret", flows=[sums_flow()])
    async with client_for(app) as client:
        bearer = {"Authorization": "Bearer s3cret"}
        token = await csrf_token(client, "/flows/sums?token=s3cret")  # the link sets a cookie
        form = {"csrf_token": token, "p:batch": "1"}

        client.session.cookie_jar.clear(lambda c: c.key == "asyncflow_token")
        for query in ("", "?token=s3cret", "?token=wrong"):
            response = await client.post("/flows/sums/runs" + query, data=form,
                                         allow_redirects=False)
            assert response.status == 401, query
        assert client.app[MANAGER].runs() == []

        response = await client.post("/flows/sums/runs", data=form, headers=bearer,
                                     allow_redirects=False)
        assert response.status == 303
        await client.app[MANAGER].runs()[0].wait()


async def test_cancel_ends_a_running_run_cancelled_with_nothing_left_running(
    history_url: str
) -> None:
    gate = Gate()
    async with client_for(create_app(history_url, flows=[gate.flow])) as client:
        manager = client.app[MANAGER]
        token = await csrf_token(client, "/flows/gated")
        response = await client.post("/flows/gated/runs", data={"csrf_token": token},
                                     allow_redirects=False)
        run_page = response.headers["Location"]
        await gate.started.wait()
        page = await (await client.get(run_page)).text()
        assert 'id="cancel-run"' in page

        refused = await client.post(run_page + "/cancel", data={"csrf_token": "0" * 64})
        assert refused.status == 403 and manager.active_runs == 1

        response = await client.post(run_page + "/cancel", data={"csrf_token": token},
                                     allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, run_page)
        assert gate.cancelled.is_set() and manager.active_runs == 0
        page = await (await client.get(run_page)).text()
        assert 'id="cancel-run"' not in page
    (run,) = await list_runs(url=history_url)
    assert run.state == "Cancelled"
    states = {t.task_name: t.state for t in (await get_run(run.id, url=history_url)).task_runs}
    assert states == {"n": "Success", "wait_for_release": "Cancelled"}


async def test_a_run_that_has_ended_cannot_be_cancelled(history_url: str) -> None:
    gate = Gate()
    await sums_flow().run({"batch": 1}, history=history_url)
    async with client_for(create_app(history_url, flows=[gate.flow])) as client:
        assert 'id="cancel-run"' not in await (await client.get("/runs/1")).text()
        token = await csrf_token(client, "/flows/gated")
        response = await client.post("/runs/1/cancel", data={"csrf_token": token})
        assert response.status == 409
        assert "Nothing was cancelled: flow run 1 of &#x27;sums&#x27;" in await response.text()
        assert "has already ended (Success)" in await response.text()
    assert (await get_run(1, url=history_url)).run.cancel_requested_at is None


async def test_beyond_max_concurrent_runs_the_form_says_so(history_url: str) -> None:
    gate = Gate()
    app = create_app(history_url, flows=[gate.flow], max_concurrent_runs=1)
    async with client_for(app) as client:
        token = await csrf_token(client, "/flows/gated")
        first = await client.post("/flows/gated/runs", data={"csrf_token": token},
                                  allow_redirects=False)
        assert first.status == 303
        second = await client.post("/flows/gated/runs", data={"csrf_token": token})
        assert second.status == 429
        assert "1 runs are active, the limit (max_concurrent_runs=1)" in await second.text()
        gate.release.set()
        await client.app[MANAGER].runs()[0].wait()
    assert await count_runs(url=history_url) == 1


async def test_shutting_the_dashboard_down_cancels_its_runs(history_url: str) -> None:
    gate = Gate()
    async with client_for(create_app(history_url, flows=[gate.flow])) as client:
        token = await csrf_token(client, "/flows/gated")
        await client.post("/flows/gated/runs", data={"csrf_token": token}, allow_redirects=False)
        await gate.started.wait()
    assert gate.cancelled.is_set()
    (run,) = await list_runs(url=history_url)
    assert run.state == "Cancelled"


async def test_a_timed_out_run_can_be_restarted_and_a_successful_one_cannot(
    history_url: str
) -> None:
    gate = Gate()
    timed_out = await gate.flow.run(history=history_url, timeout=0.01)  # never released
    assert timed_out.name == "TimedOut"
    gate.release.set()
    await gate.flow.run(history=history_url)
    async with client_for(create_app(history_url, flows=[gate.flow])) as client:
        token = await csrf_token(client, "/runs/1")
        assert 'id="restart-run"' in await (await client.get("/runs/1")).text()
        assert 'id="restart-run"' not in await (await client.get("/runs/2")).text()
        refused = await client.post("/runs/2/restart", data={"csrf_token": token})
        assert refused.status == 409
        assert "only a run that failed, crashed or timed out" in await refused.text()

        response = await client.post("/runs/1/restart", data={"csrf_token": token},
                                     allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, "/runs/3")
        await client.app[MANAGER].runs()[0].wait()
    runs = await list_runs(url=history_url)
    assert [(r.id, r.state, r.restart_of) for r in runs] == [
        (3, "Success", 1), (2, "Success", None), (1, "TimedOut", None)]
