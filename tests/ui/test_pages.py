"""The dashboard over HTTP: pages, filters, live events, tokens and mounting."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy

from asyncflow import Flow, history, task
from asyncflow._ui import _app, create_app
from asyncflow._ui._pages import safe_svg
from tests.ui.flows import PICKLED_MARKER, etl_flow
from tests.ui.helpers import Dashboard, serve

pytestmark = pytest.mark.anyio


async def _get(url: str, **kwargs: Any) -> tuple[int, str, CIMultiDictProxy[str]]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response.status, await response.text(), response.headers


async def _record_etl(url: str, tmp_path: Path, times: int = 1) -> None:
    flow = etl_flow(tmp_path / "results")
    for _ in range(times):
        await flow.run(history=url, checkpointing=True)


async def test_the_runs_list_shows_recorded_runs(dashboard: Dashboard, tmp_path: Path) -> None:
    await _record_etl(dashboard.url, tmp_path)
    status, page, headers = await _get(dashboard.base)
    assert status == 200
    assert 'href="/runs/1"' in page and ">etl<" in page
    assert 'data-state="Failed"' in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]


async def test_the_runs_list_filters_and_pages(
    dashboard: Dashboard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @task
    async def fine() -> int:
        return 1

    with Flow("other") as other:
        fine()
    await _record_etl(dashboard.url, tmp_path, times=2)
    await other.run(history=dashboard.url)
    monkeypatch.setattr(_app, "RUNS_PER_PAGE", 2)

    def runs(page: str) -> list[str]:
        return re.findall(r'data-run="(\d+)"', page)

    assert runs((await _get(dashboard.base))[1]) == ["3", "2"]
    assert runs((await _get(dashboard.base + "?page=2"))[1]) == ["1"]
    assert runs((await _get(dashboard.base + "?flow=other"))[1]) == ["3"]
    assert runs((await _get(dashboard.base + "?state=Failed"))[1]) == ["2", "1"]
    assert runs((await _get(dashboard.base + "?since=2000-01-01&until=2000-12-31"))[1]) == []
    status, page, _ = await _get(dashboard.base + "?since=yesterday")
    assert status == 400 and "2024-05-31" in page


async def test_the_runs_list_filters_and_pages_crashed_runs(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = ("another-host", 4242, None)  # no beat for an hour: its process is gone
    async with history.connect(dashboard.url) as db:
        for n in range(3):
            await db.create_flow_run(
                flow_run_id=f"gone-{n}", flow_name="gone", state="Running", parameters="{}",
                started_at=time.time() - 3600 + n, task_count=0, graph=None, process=gone)
        await db.create_flow_run(
            flow_run_id="going", flow_name="going", state="Running", parameters="{}",
            started_at=time.time(), task_count=0, graph=None,
            process=("another-host", 4243, None))
    monkeypatch.setattr(_app, "RUNS_PER_PAGE", 2)

    def runs(page: str) -> list[str]:
        return re.findall(r'data-run="(\d+)"', page)

    first = (await _get(dashboard.base + "?state=Crashed"))[1]
    assert runs(first) == ["3", "2"] and "3 runs" in first
    assert runs((await _get(dashboard.base + "?state=Crashed&page=2"))[1]) == ["1"]
    running = (await _get(dashboard.base + "?state=Running"))[1]
    assert runs(running) == ["4"] and "1 run<" in running


async def test_a_flow_run_id_redirects_to_its_run_page(dashboard: Dashboard) -> None:
    @task
    async def fine() -> int:
        return 1

    with Flow("linked") as flow:
        fine()
    await flow.run(history=dashboard.url, context={"flow_run_id": "run-42"})

    async with aiohttp.ClientSession() as session:
        async with session.get(dashboard.base + "flow-runs/run-42",
                               allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"].endswith("/runs/1")
        async with session.get(dashboard.base + "flow-runs/nope") as response:
            assert response.status == 404


async def test_the_run_page_shows_the_dag_and_the_task_table(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    await _record_etl(dashboard.url, tmp_path)
    status, page, _ = await _get(dashboard.base + "runs/1")
    assert status == 200
    dag = page[page.index('<div class="dag"'):page.index("</svg>")]
    for slug in ("extract-1", "summarize-1", "archive-1", "load-1"):
        assert f'data-slug="{slug}"' in dag

    rows = dict(re.findall(r'<tr data-key="(\d+:-?\d+)">(.*?)</tr>', page, re.S))
    by_name = {re.search(r'data-col="task"><a [^>]*>([^<]*)</a>', row).group(1): row  # type: ignore[union-attr]
               for row in rows.values()}
    assert set(by_name) == {"n", "extract", "summarize", "archive", "load"}
    assert 'data-state="Failed"' in by_name["load"]
    assert '<td data-col="retries" class="num">1</td>' in by_name["load"]
    assert "ValueError: warehouse rejected 3 rows" in by_name["load"]
    assert "&quot;total&quot;: 3" in by_name["summarize"]  # the JSON value, inline
    location = re.search(r"<code>([^<]*)</code>", by_name["archive"]).group(1)  # type: ignore[union-attr]
    assert Path(location).parent == tmp_path / "results"
    assert PICKLED_MARKER not in page
    assert "data-live" not in page  # finished: nothing to listen to


async def test_the_task_run_page_shows_the_timeline(dashboard: Dashboard, tmp_path: Path) -> None:
    await _record_etl(dashboard.url, tmp_path)
    page = (await _get(dashboard.base + "runs/1"))[1]
    link = re.search(r'<a href="(/runs/1/tasks/\d+)">load</a>', page).group(1)  # type: ignore[union-attr]
    status, page, _ = await _get(dashboard.base + link.lstrip("/"))
    assert status == 200
    states = re.findall(r'&rarr; <span class="state[^"]*" data-state="(\w+)"', page)
    assert states == ["Running", "Failed", "Retrying", "Running", "Failed"]
    assert "Traceback (most recent call last)" in page


async def test_unknown_runs_are_404(dashboard: Dashboard) -> None:
    assert (await _get(dashboard.base + "runs/41"))[0] == 404
    assert (await _get(dashboard.base + "runs/41/tasks/0"))[0] == 404


async def test_the_event_stream_sends_transitions_then_ends(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    await _record_etl(dashboard.url, tmp_path)
    status, body, headers = await _get(dashboard.base + "runs/1/events")
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = re.findall(r"id: (\d+)\nevent: transition\ndata: (.*)\n", body)
    assert [int(i) for i, _ in events] == sorted(int(i) for i, _ in events)
    assert '"key": "flow"' in events[0][1] and '"state": "Running"' in events[0][1]
    assert body.endswith("event: end\ndata: {}\n\n")
    last = events[-3][0]
    later = (await _get(dashboard.base + f"runs/1/events?after={last}"))[1]
    assert len(re.findall("event: transition", later)) == 2


def test_a_picture_with_anything_script_like_is_not_shown() -> None:
    assert safe_svg('<svg><g class="node"/></svg>') == '<svg><g class="node"/></svg>'
    assert safe_svg('<svg><script>alert(1)</script></svg>') is None
    assert safe_svg('<svg><rect onload="alert(1)"/></svg>') is None
    assert safe_svg('<svg><a href="javascript:alert(1)"/></svg>') is None


async def test_with_a_token_every_request_needs_it(history_url: str) -> None:
    runner, base = await serve(create_app(history_url, token="s3cret"))
    try:
        status, body, headers = await _get(base)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert "s3cret" not in body
        assert (await _get(base, headers={"Authorization": "Bearer wrong"}))[0] == 401
        assert (await _get(base + "?token=wrong"))[0] == 401
        assert (await _get(base + "static/app.js"))[0] == 401
        assert (await _get(base, headers={"Authorization": "Bearer s3cret"}))[0] == 200

        # unsafe: keep cookies of IP-address hosts, as browsers do
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(base + "?token=s3cret&flow=etl",
                                   allow_redirects=False) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/?flow=etl"
                assert "HttpOnly" in response.headers["Set-Cookie"]
            async with session.get(base + "?flow=etl") as response:  # the cookie now
                assert response.status == 200
    finally:
        await runner.cleanup()


async def test_it_mounts_inside_another_app(history_url: str, tmp_path: Path) -> None:
    await _record_etl(history_url, tmp_path)
    parent = web.Application()

    async def home(request: web.Request) -> web.Response:
        return web.Response(text="the user's own app")

    parent.router.add_get("/", home)
    parent.add_subapp("/history/", create_app(history_url))
    runner, base = await serve(parent)
    try:
        assert (await _get(base))[1] == "the user's own app"
        status, page, _ = await _get(base + "history/")
        assert status == 200
        assert 'href="/history/runs/1"' in page
        assert 'href="/history/static/app.css"' in page
        status, page, _ = await _get(base + "history/runs/1")
        assert status == 200 and 'href="/history/runs/1/tasks/' in page
    finally:
        await runner.cleanup()


async def test_an_empty_token_is_refused(history_url: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        create_app(history_url, token=" ")
