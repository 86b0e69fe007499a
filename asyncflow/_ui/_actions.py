"""The dashboard's actions: start runs of registered flows, cancel running runs, restart
failed ones.

Added by ``create_app(url, flows=[...])`` only; without flows the dashboard is read-only
and none of these routes exists (a POST anywhere is a 404 or a 405). Routes::

    GET  /flows/{flow}          the flow's parameter form
    POST /flows/{flow}/runs     start a run: 303 to its run page; 400 with the form
                                and the reason for each bad parameter (nothing runs)
    POST /runs/{run}/cancel     ask for a running run to be cancelled, through the history,
                                whichever process runs it: 303 to its page (cancelling
                                until it ends); 409 if it has ended
    POST /runs/{run}/restart    a failed, crashed or timed-out run: flow.run(restart_from=
                                <its flow run id>), 303 to the new run's page (only
                                where the engine has restart_from)

Runs go through a :class:`~asyncflow.contrib.aiohttp.RunManager` (the aiohttp
integration's), which keeps them in one task group, bounds how many are active, and
cancels them when the app shuts down. Each run records itself in the dashboard's own
history (``history=<its url>``), so its page and its live updates are those of any
recorded run. Cancel works on any running run of the history (see
:mod:`asyncflow._history._cancel`); a run started here is also cancelled at once. Every
POST carries the session's CSRF token (:mod:`._csrf`) and, when the dashboard has a
token, the token too (the app's token middleware checks it first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import anyio
from aiohttp import web

from .._aiohttp._errors import RunLimitError, RunManagerClosedError, UnknownRunError
from .._aiohttp._manager import RunManager, restart_supported
from .._aiohttp._runs import FlowRun
from .._aiohttp._sse import KEEPALIVE
from .._core._exceptions import FlowRunError, ParameterError
from .._core._flow import Flow
from .._history._cancel import request_cancel
from .._history._errors import RunFinishedError, RunNotFoundError
from .._history._records import FlowRunRecord, is_failure
from .._history._store import HistoryStore
from . import _action_pages as pages
from ._app import (
    RUN_PAGE_BLOCKS,
    RUNS_LIST_BLOCKS,
    STORE,
    _not_found,
    _run,
    _run_number,
    _url,
    _urls,
)
from ._csrf import TOKEN_FIELD, CsrfGuard, session_middleware, session_of
from ._forms import ParameterFormError, fields_for, read_form

MANAGER = web.AppKey("run_manager", RunManager)
CSRF = web.AppKey("csrf", CsrfGuard)
#: How long a start or a restart waits for the new run's record before redirecting.
START_WAIT = 10.0
#: How long Cancel waits for a run started here to end before showing its page.
CANCEL_WAIT = 5.0


def add_actions(
    app: web.Application, flows: Iterable[Flow], *, store_url: str, max_concurrent_runs: int
) -> None:
    """Register ``flows`` with the dashboard ``app`` and add the action routes."""
    app[MANAGER] = RunManager(flows, max_concurrent_runs=max_concurrent_runs,
                              run_options={"history": store_url})
    app[CSRF] = CsrfGuard()
    app.middlewares.append(session_middleware(_root))
    app[RUNS_LIST_BLOCKS] = [start_block]
    app[RUN_PAGE_BLOCKS] = [run_actions]
    router = app.router
    router.add_get("/flows/{flow}", flow_form, name="flow_form")
    router.add_post("/flows/{flow}/runs", start_run, name="start_run")
    router.add_post("/runs/{run:\\d+}/cancel", cancel_run, name="cancel_run")
    router.add_post("/runs/{run:\\d+}/restart", restart_run, name="restart_run")
    app.cleanup_ctx.append(_run_manager)
    app.on_shutdown.append(_stop_runs)


async def _run_manager(app: web.Application) -> AsyncIterator[None]:
    await app[MANAGER].start()
    yield
    await app[MANAGER].aclose()


async def _stop_runs(app: web.Application) -> None:
    """At shutdown, before the history closes: no new runs, running ones cancelled."""
    await app[MANAGER].aclose()


# ---- what other pages show ----------------------------------------------------------------
def start_block(request: web.Request) -> str:
    """The runs list's block of the flows to start."""
    manager = request.config_dict[MANAGER]
    return pages.start_block([
        (name, _url(request, "flow_form", flow=name), len(flow.parameters()))
        for name, flow in sorted(manager.flows.items())
    ])


def run_actions(request: web.Request, run: FlowRunRecord) -> str:
    """A run page's Cancel / Restart from failure buttons ('' when none applies)."""
    manager = request.config_dict[MANAGER]
    cancel = restart = None
    if not run.is_finished and not run.is_cancelling:
        cancel = _url(request, "cancel_run", run=run.id)
    if is_failure(run.state) and run.flow_name in manager.flows and restart_supported():
        restart = _url(request, "restart_run", run=run.id)
    return pages.run_actions_block(csrf=_csrf_token(request), cancel_url=cancel,
                                   restart_url=restart, cancelling=run.is_cancelling)


# ---- handlers ------------------------------------------------------------------------------
async def flow_form(request: web.Request) -> web.Response:
    name = request.match_info["flow"]
    flow = _flow(request, name)
    return _html(pages.flow_form_page(
        name, fields_for(flow), action=_url(request, "start_run", flow=name),
        csrf=_csrf_token(request), urls=_urls(request),
    ))


async def start_run(request: web.Request) -> web.Response:
    name = request.match_info["flow"]
    flow = _flow(request, name)
    form = await _checked_form(request)
    manager = request.config_dict[MANAGER]

    def refused(status: int, problems: dict[str, str] | None, message: str | None
                ) -> web.Response:
        return _html(pages.flow_form_page(
            name, fields_for(flow), action=_url(request, "start_run", flow=name),
            csrf=_csrf_token(request), urls=_urls(request), entered=form,
            problems=problems, message=message,
        ), status=status)

    try:
        run = manager.submit(name, read_form(flow, form))
    except ParameterFormError as exc:
        return refused(400, exc.problems, None)
    except ParameterError as exc:
        return refused(400, None, f"Nothing was started: {exc}")
    except RunLimitError as exc:
        return refused(429, None, f"Nothing was started: {exc}")
    except RunManagerClosedError as exc:
        return refused(503, None, f"Nothing was started: {exc}")
    raise await _to_run_page(request, run)


async def cancel_run(request: web.Request) -> web.Response:
    await _checked_form(request)
    record = await _record(request)
    back = _url(request, "run", run=record.id)
    try:
        await request_cancel(request.config_dict[STORE], record.id)
    except RunFinishedError as exc:
        return _problem(request, 409, f"Nothing was cancelled: {exc}", back=back)
    live = _started_here(request.config_dict[MANAGER], record)
    if live is not None and not live.done:  # no need to wait for its recorder to look
        live.cancel()
        with anyio.move_on_after(CANCEL_WAIT):
            await live.wait()
    raise web.HTTPSeeOther(back)


async def restart_run(request: web.Request) -> web.Response:
    await _checked_form(request)
    record = await _record(request)
    back = _url(request, "run", run=record.id)
    manager = request.config_dict[MANAGER]
    if record.flow_name not in manager.flows:
        return _problem(request, 409, (
            f"Flow {record.flow_name!r} is not registered with this dashboard, so run "
            f"#{record.id} cannot be restarted here; serve it with --flows"
        ), back=back)
    if not is_failure(record.state):
        return _problem(request, 409, (
            f"Run #{record.id} is {record.state}: only a run that failed, crashed or "
            "timed out can be restarted from its failure"
        ), back=back)
    try:
        run = manager.submit(record.flow_name, restart_from=record.flow_run_id)
    except FlowRunError as exc:  # no restart_from in this engine, too many runs, closing
        status = 429 if isinstance(exc, RunLimitError) else (
            503 if isinstance(exc, RunManagerClosedError) else 501)
        return _problem(request, status, f"Nothing was started: {exc}", back=back)
    except ParameterError as exc:
        return _problem(request, 400, f"Nothing was started: {exc}", back=back)
    raise await _to_run_page(request, run)


# ---- helpers -------------------------------------------------------------------------------
async def _checked_form(request: web.Request) -> dict[str, str]:
    """The POSTed form's text fields, once its CSRF token is checked."""
    data = await request.post()
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    request.config_dict[CSRF].check(request, form.pop(TOKEN_FIELD, None))
    return form


async def _to_run_page(request: web.Request, run: FlowRun) -> web.HTTPSeeOther:
    """A redirect to the new run's page, once the history holds it.

    The history records a run when the engine opens it, before its first transition, so
    the first event of the run means its record is there. If the run ended without being
    recorded (the history could not be written), the redirect goes to the flow run id's
    link, which says so.
    """
    subscription = run.subscribe(after=None, limit=1)
    try:
        with anyio.move_on_after(START_WAIT):
            while await subscription.next_chunk(START_WAIT) == KEEPALIVE:
                pass
    finally:
        run.unsubscribe(subscription)
    store: HistoryStore = request.config_dict[STORE]
    try:
        record = await store.get_flow_run(run.id)
    except RunNotFoundError:
        return web.HTTPSeeOther(_url(request, "flow_run", flow_run_id=run.id))
    return web.HTTPSeeOther(_url(request, "run", run=record.id))


def _started_here(manager: RunManager, record: FlowRunRecord) -> FlowRun | None:
    try:
        run = manager.get(record.flow_run_id)
    except UnknownRunError:
        return None
    return run if run.flow.name == record.flow_name else None


async def _record(request: web.Request) -> FlowRunRecord:
    return await _run(request, _run_number(request))


def _flow(request: web.Request, name: str) -> Flow:
    flow: Flow | None = request.config_dict[MANAGER].flows.get(name)
    if flow is None:
        raise _not_found(request, f"No flow named {name!r} is registered with this "
                                  "dashboard; start it with --flows path/to/file.py:flow")
    return flow


def _csrf_token(request: web.Request) -> str:
    return request.config_dict[CSRF].token_for(session_of(request))


def _root(request: web.Request) -> str:
    return _url(request, "runs")


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


def _problem(request: web.Request, status: int, message: str, *, back: str) -> web.Response:
    return _html(pages.problem_page(status, message, urls=_urls(request), back=back),
                 status=status)
