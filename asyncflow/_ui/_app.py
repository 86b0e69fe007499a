"""The dashboard as an aiohttp application, standalone or mounted in another app.

::

    import anyio
from aiohttp import web
    from asyncflow.ui import create_app

    app = web.Application()
    app.add_subapp("/history/", create_app("sqlite:///~/.asyncflow/history.db"))

Routes (relative to where the app is mounted)::

    GET /                                  runs: ?flow= &state= &since= &until= &page=
    GET /runs/{run}                        a run: DAG, task table (?state= &page=)
    GET /runs/{run}/tasks/{task}[/{index}] a task run, its transition timeline and its logs
                                           (?level= &logs_after=, see :mod:`._logs`)
    GET /runs/{run}/tasks/{task}[/{index}]/logs?after=ID&level=
                                           server-sent events: the task run's new log lines
    GET /runs/{run}/events?after=ID        server-sent events: the run's new transitions
    GET /flow-runs/{flow_run_id}           redirects to the latest run with that engine id
                                           (the link of a notification digest)
    GET /static/app.css, /static/app.js

The events stream polls the database for transitions with an id above the last one sent
(every ``poll_interval`` seconds) and ends with an ``end`` event once the run is recorded
to its end. Numbers, dates and names in a request are checked by :mod:`._inputs` before
any query: a run or task number no database can hold is a 404, a bad query value a 400
page that says what to send. With a ``token`` every request must carry it: an
``Authorization: Bearer`` header, the cookie a ``?token=`` link sets, or that query
parameter; anything else gets 401. Pages are served with a Content-Security-Policy that allows only the app's own
script.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from .._history._errors import RunNotFoundError
from .._history._records import FlowRunRecord, TaskRunRecord, TransitionRecord, state_color
from .._history._schema import MAX_ID
from .._history._store import HistoryStore, store_for
from . import _pages
from ._inputs import (
    MAX_PAGE,
    QueryValueError,
    bounded_int,
    day_range,
    query_day,
    query_int,
    query_text,
    whole_number,
)
from ._logs import LOGS_CSS, LOGS_JS, stream_logs, task_run_logs
from ._sse import poll_events
from ._static import ACTIONS_CSS, CSS, JS

RUNS_PER_PAGE = 25
TASK_RUNS_PER_PAGE = 200
COOKIE = "asyncflow_token"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

STORE = web.AppKey("store", HistoryStore)
SETTINGS = web.AppKey("settings", dict)
STOPPING = web.AppKey("stopping", asyncio.Event)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# ---- blocks other modules add to pages (the actions of :mod:`._actions`) ----------------
#: Functions of the request giving HTML for the runs list, after its heading.
RUNS_LIST_BLOCKS = web.AppKey("runs_list_blocks", list)
#: Functions of the request and the run giving HTML for a run page, after its details.
RUN_PAGE_BLOCKS = web.AppKey("run_page_blocks", list)


def _blocks(request: web.Request, key: web.AppKey[list[Any]], *args: Any) -> str:
    return "".join(block(request, *args) for block in request.config_dict.get(key, ()))


def create_app(
    store_url: str,
    *,
    token: str | None = None,
    poll_interval: float = 0.5,
    draw_max_tasks: int = 200,
) -> web.Application:
    """The dashboard for the history at ``store_url``; give a ``token`` to require it.

    The database is opened when the app starts and closed when it stops, also when the
    app is mounted with ``add_subapp``.
    """
    if token is not None and not token.strip():
        raise ValueError("token must not be empty; pass None to serve without one")
    store = store_for(store_url)
    app = web.Application(middlewares=[_security_headers, _require_token, _refuse_bad_queries])
    app[STORE] = store
    app[SETTINGS] = {"token": token, "poll_interval": poll_interval,
                     "draw_max_tasks": draw_max_tasks}
    app.cleanup_ctx.append(_open_store)
    app.on_shutdown.append(_stop_streams)
    app.router.add_get("/", runs_list, name="runs")
    app.router.add_get("/runs/{run:\\d+}", run_detail, name="run")
    app.router.add_get("/runs/{run:\\d+}/tasks/{task:\\d+}", task_run_detail, name="task")
    app.router.add_get("/runs/{run:\\d+}/tasks/{task:\\d+}/{index:\\d+}", task_run_detail,
                       name="child")
    app.router.add_get("/runs/{run:\\d+}/tasks/{task:\\d+}/logs", task_logs_events,
                       name="task_logs")
    app.router.add_get("/runs/{run:\\d+}/tasks/{task:\\d+}/{index:\\d+}/logs",
                       task_logs_events, name="child_logs")
    app.router.add_get("/runs/{run:\\d+}/events", run_events, name="events")
    app.router.add_get("/flow-runs/{flow_run_id}", run_by_flow_run_id, name="flow_run")
    app.router.add_get("/static/app.css", _asset(CSS + LOGS_CSS + ACTIONS_CSS, "text/css"),
                       name="css")
    app.router.add_get("/static/app.js", _asset(JS + LOGS_JS, "text/javascript"), name="js")
    app.router.add_get("/favicon.ico", _no_icon)
    return app


async def _no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _open_store(app: web.Application) -> AsyncIterator[None]:
    app[STOPPING] = asyncio.Event()
    async with app[STORE]:
        yield


async def _stop_streams(app: web.Application) -> None:
    app[STOPPING].set()


# ---- middlewares ---------------------------------------------------------------------
@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if isinstance(response, web.HTTPException):
        raise response
    return response


def _matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.config_dict[SETTINGS]["token"]
    if token is None:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    if _matches(bearer, token) or _matches(request.cookies.get(COOKIE), token):
        return await handler(request)
    # A link carries the token only to pages: an action (a POST) must bring the cookie.
    if request.method in ("GET", "HEAD") and _matches(request.query.get("token"), token):
        # Trade the token in the link for a cookie, and drop it from the address bar.
        query = request.rel_url.query.copy()
        del query["token"]
        target = request.rel_url.with_query(query)
        response = web.HTTPSeeOther(location=str(target))
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict",
                            secure=request.secure)
        raise response
    raise web.HTTPUnauthorized(
        text="401: this dashboard needs its token: send 'Authorization: Bearer <token>', "
             "or open a link with ?token=<token> once to get a cookie",
        headers={"WWW-Authenticate": 'Bearer realm="asyncflow"'},
    )


@web.middleware
async def _refuse_bad_queries(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A query value :mod:`._inputs` refuses is a 400 page saying what to send instead."""
    try:
        return await handler(request)
    except QueryValueError as exc:
        raise web.HTTPBadRequest(
            text=_pages.error_page(400, str(exc), urls=_urls(request)), content_type="text/html"
        ) from None


# ---- helpers ---------------------------------------------------------------------------
def _asset(text: str, content_type: str) -> Handler:
    body = text.encode()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8",
                            headers={"Cache-Control": "max-age=300"})

    return serve


def _url(request: web.Request, name: str, query: dict[str, Any] | None = None,
         **parts: Any) -> str:
    url = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        url = url.with_query({k: str(v) for k, v in query.items() if v not in (None, "")})
    return str(url)


def _urls(request: web.Request) -> dict[str, str]:
    return {"runs": _url(request, "runs"), "css": _url(request, "css"),
            "js": _url(request, "js")}


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


def _page_number(request: web.Request) -> int:
    return query_int(request.query, "page", default=1, minimum=1, maximum=MAX_PAGE)


def _not_found(request: web.Request, message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=_pages.error_page(404, message, urls=_urls(request)),
                            content_type="text/html")


def _path_number(request: web.Request, name: str, missing: str) -> int:
    """The number in the path segment ``name``; a 404 saying ``missing`` if no database can
    hold it (the routes' patterns already refuse anything but digits)."""
    number = bounded_int(request.match_info[name], minimum=0, maximum=MAX_ID)
    if number is None:
        raise _not_found(request, missing)
    return number


def _run_number(request: web.Request) -> int:
    return _path_number(request, "run", f"There is no run #{request.match_info['run']}.")


async def _run(request: web.Request, run_id: int) -> FlowRunRecord:
    try:
        return await request.config_dict[STORE].get_flow_run(run_id)
    except RunNotFoundError:
        raise _not_found(request, f"There is no run #{run_id}.") from None


def _task_path(request: web.Request, run: int, tr: TaskRunRecord) -> str:
    if tr.map_index is None:
        return _url(request, "task", run=run, task=tr.task)
    return _url(request, "child", run=run, task=tr.task, index=tr.map_index)


# ---- pages -------------------------------------------------------------------------------
async def run_by_flow_run_id(request: web.Request) -> web.Response:
    """Redirect from the engine's flow run id (as notifications know it) to its run page."""
    flow_run_id = request.match_info["flow_run_id"]
    try:
        run = await request.config_dict[STORE].get_flow_run(flow_run_id)
    except RunNotFoundError:
        raise _not_found(request, f"There is no recorded run with id {flow_run_id!r}.") from None
    raise web.HTTPFound(_url(request, "run", run=run.id))


async def runs_list(request: web.Request) -> web.Response:
    store = request.config_dict[STORE]
    query = request.query
    filters = {k: query_text(query, k) for k in ("flow", "state", "since", "until")}
    # "until" a day includes that day: the range ends where the next day starts.
    since, until = day_range(query_day(query, "since"), query_day(query, "until"))
    selection: dict[str, Any] = {"flow": filters["flow"] or None,
                                 "state": filters["state"] or None,
                                 "since": since, "until": until}
    page_no = _page_number(request)
    total = await store.count_runs(**selection)
    pages = max(math.ceil(total / RUNS_PER_PAGE), 1)
    runs = await store.list_runs(**selection, limit=RUNS_PER_PAGE,
                                 offset=(page_no - 1) * RUNS_PER_PAGE)
    return _html(_pages.runs_page(
        runs, total=total, flows=await store.flow_names(), filters=filters,
        page_no=page_no, pages=pages,
        run_url=lambda run_id: _url(request, "run", run=run_id),
        page_url=lambda n: _url(request, "runs", {**filters, "page": n}),
        urls=_urls(request),
        actions=_blocks(request, RUNS_LIST_BLOCKS),
    ))


async def run_detail(request: web.Request) -> web.Response:
    store: HistoryStore = request.config_dict[STORE]
    run_id = _run_number(request)
    # Read before the state: whatever is recorded after this, the live stream sends.
    finished = await store.is_finished(run_id)
    seen = await store.last_transition_id(run_id)
    run = await _run(request, run_id)
    state = query_text(request.query, "state") or None
    page_no = _page_number(request)
    counts = await store.state_counts(run.id)
    total = counts.get(state, 0) if state else sum(counts.values())
    pages = max(math.ceil(total / TASK_RUNS_PER_PAGE), 1)
    task_runs = await store.task_runs(run.id, state=state, limit=TASK_RUNS_PER_PAGE,
                                      offset=(page_no - 1) * TASK_RUNS_PER_PAGE)
    flow_transitions = await store.transitions(run.id, flow_only=True)
    _, svg = await store.graph(run.id)
    live = _url(request, "events", {"after": seen}, run=run.id) if not finished else None
    limit = request.config_dict[SETTINGS]["draw_max_tasks"]
    note = (f"No picture: flows of more than {limit} tasks are not drawn."
            if run.task_count > limit else "No picture was recorded for this run.")
    restarted_by = await store.restarts_of(run.id)
    return _html(_pages.run_page(
        run, task_runs=task_runs, counts=counts, flow_transitions=flow_transitions, svg=svg,
        restarted_by=restarted_by, run_url=lambda n: _url(request, "run", run=n),
        total_task_runs=total, state_filter=state, page_no=page_no, pages=pages,
        page_url=lambda n: _url(request, "run", {"state": state, "page": n}, run=run.id),
        task_url=lambda tr: _task_path(request, run.id, tr),
        filter_url=lambda name: _url(request, "run", {"state": name}, run=run.id),
        live_url=live, draw_note=note, urls=_urls(request),
        actions=_blocks(request, RUN_PAGE_BLOCKS, run),
    ))


async def task_run_detail(request: web.Request) -> web.Response:
    store: HistoryStore = request.config_dict[STORE]
    run_id = _run_number(request)
    missing = f"Run #{run_id} has no such task run."
    task = _path_number(request, "task", missing)
    map_index = _path_number(request, "index", missing) if "index" in request.match_info else None
    finished = await store.is_finished(run_id)
    seen = await store.last_transition_id(run_id)
    run = await _run(request, run_id)
    try:
        task_run = await store.get_task_run(run.id, task, map_index)
    except RunNotFoundError:
        raise _not_found(request, missing) from None
    live = _url(request, "events", {"after": seen}, run=run.id) if not finished else None
    logs = await task_run_logs(
        request, store, run.id, task, map_index, finished=finished,
        page_url=lambda level, after: _task_page_url(request, run.id, task, map_index,
                                                     {"level": level, "logs_after": after}),
        stream_url=lambda after, level: _task_page_url(
            request, run.id, task, map_index, {"after": after, "level": level}, logs=True),
    )
    return _html(_pages.task_run_page(
        run, task_run, run_url=_url(request, "run", run=run.id), live_url=live,
        urls=_urls(request), logs=logs,
    ))


def _task_page_url(request: web.Request, run: int, task: int, map_index: int | None,
                   query: dict[str, Any], *, logs: bool = False) -> str:
    """The task run's page (or with ``logs`` its log stream), with ``query``."""
    suffix = "_logs" if logs else ""
    if map_index is None:
        return _url(request, "task" + suffix, query, run=run, task=task)
    return _url(request, "child" + suffix, query, run=run, task=task, index=map_index)


async def task_logs_events(request: web.Request) -> web.StreamResponse:
    """A task run's new log lines, as they are recorded (see :mod:`._logs`)."""
    run_id = _run_number(request)
    missing = f"Run #{run_id} has no such task run."
    task = _path_number(request, "task", missing)
    map_index = _path_number(request, "index", missing) if "index" in request.match_info else None
    run = await _run(request, run_id)
    return await stream_logs(
        request, request.config_dict[STORE], run.id, task, map_index,
        stopping=request.config_dict[STOPPING],
        interval=float(request.config_dict[SETTINGS]["poll_interval"]),
    )


# ---- live updates ----------------------------------------------------------------------
async def run_events(request: web.Request) -> web.StreamResponse:
    """The run's transitions after ``after`` (or ``Last-Event-ID``) as they are recorded."""
    store: HistoryStore = request.config_dict[STORE]
    run = await _run(request, _run_number(request))
    header = request.headers.get("Last-Event-ID", "").strip()
    label, text = ("Last-Event-ID", header) if header else ("after", request.query.get("after", ""))
    after = whole_number(text or "0", label=label, minimum=0, maximum=MAX_ID,
                         what="a transition id: a whole number")
    stopping: asyncio.Event = request.config_dict[STOPPING]
    interval = float(request.config_dict[SETTINGS]["poll_interval"])
    names = await store.task_names(run.id)
    return await poll_events(
        request, after=after, page=500,
        read=lambda since: store.transitions(run.id, after=since, limit=500),
        finished=lambda: store.is_finished(run.id),
        event=lambda t: _event(request, run.id, t, names), item_id=lambda t: t.id,
        stopping=stopping, interval=interval,
    )


def _event(
    request: web.Request, run: int, t: TransitionRecord, names: list[tuple[str, str]]
) -> bytes:
    if t.task is None:
        data: dict[str, Any] = {"key": "flow"}
    else:
        slug, name = names[t.task] if 0 <= t.task < len(names) else ("", f"task {t.task}")
        if t.map_index is None:
            href = _url(request, "task", run=run, task=t.task)
        else:
            href = _url(request, "child", run=run, task=t.task, index=t.map_index)
            name = f"{name}[{t.map_index}]"
        data = {"key": f"{t.task}:{-1 if t.map_index is None else t.map_index}",
                "slug": slug, "name": name, "href": href}
    data.update(id=t.id, map_index=t.map_index, state=t.new_state, message=t.message,
                run_count=t.run_count, color=state_color(t.new_state), at=t.at.isoformat())
    return f"id: {t.id}\nevent: transition\ndata: {json.dumps(data)}\n\n".encode()
