"""The HTTP handlers: submit a run, read its state, stream its events, cancel it.

Every answer is strict JSON (see :mod:`._encoding`); an error is ``{"error": "..."}``
whose message says what was wrong and what to send instead. The submit route's body is
checked by :mod:`._body`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio
from aiohttp import web

from .._core._exceptions import ParameterError
from ._body import parse_parameters
from ._encoding import dumps
from ._errors import RunLimitError, RunManagerClosedError, UnknownFlowError, UnknownRunError
from ._manager import RunManager
from ._runs import FlowRun

#: Builds extra run context from the request that starts the run.
RunContext = Callable[[web.Request], Mapping[str, Any]]

RUN_ROUTE = "asyncflow-run"
EVENTS_ROUTE = "asyncflow-run-events"


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return _json({"error": message, **extra}, status=status)


class RunRoutes:
    """The handlers of one :class:`RunManager`, mounted under one prefix."""

    def __init__(
        self,
        manager: RunManager,
        *,
        run_context: RunContext | Mapping[str, Any] | None,
        heartbeat: float,
        cancel_wait: float,
    ) -> None:
        self.manager = manager
        self.run_context = run_context
        self.heartbeat = heartbeat
        self.cancel_wait = cancel_wait

    def add_to(self, app: web.Application, prefix: str) -> None:
        router = app.router
        router.add_post(prefix + "/{flow_name}/runs", self.submit)
        run = router.add_resource(prefix + "/runs/{run_id}", name=RUN_ROUTE)
        run.add_route("GET", self.get_run)
        run.add_route("DELETE", self.cancel_run)
        router.add_get(prefix + "/runs/{run_id}/events", self.events, name=EVENTS_ROUTE)

    # ---- helpers ----------------------------------------------------------------------
    def _context_for(self, request: web.Request) -> Mapping[str, Any]:
        if self.run_context is None:
            return {}
        if callable(self.run_context):
            return self.run_context(request)
        return self.run_context

    @staticmethod
    def _urls(request: web.Request, run: FlowRun) -> tuple[str, str]:
        router = request.app.router
        return (
            str(router[RUN_ROUTE].url_for(run_id=run.id)),
            str(router[EVENTS_ROUTE].url_for(run_id=run.id)),
        )

    def _find(self, request: web.Request) -> FlowRun | web.Response:
        try:
            return self.manager.get(request.match_info["run_id"])
        except UnknownRunError as exc:
            return _error(404, str(exc))

    # ---- handlers ---------------------------------------------------------------------
    async def submit(self, request: web.Request) -> web.Response:
        """``POST {prefix}/{flow_name}/runs``: the body is the parameters object."""
        name = request.match_info["flow_name"]
        try:
            self.manager.get_flow(name)
        except UnknownFlowError as exc:
            return _error(404, str(exc))
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, (
                f"the request body is larger than the {request.client_max_size} bytes this "
                "app accepts; send smaller parameters (pass large data by reference, e.g. "
                "a path or a URL), or raise the limit with "
                "web.Application(client_max_size=...)"
            ))
        try:
            parameters = parse_parameters(raw)
            run = self.manager.submit(name, parameters, context=self._context_for(request))
        except ParameterError as exc:
            return _error(400, str(exc))
        except RunLimitError as exc:
            return _error(429, str(exc))
        except RunManagerClosedError as exc:
            return _error(503, str(exc))
        url, events = self._urls(request, run)
        body = {**run.summary(), "url": url, "events": events}
        return _json(body, status=202, headers={"Location": url})

    async def get_run(self, request: web.Request) -> web.Response:
        """``GET {prefix}/runs/{run_id}``: the run's state and each task's."""
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        return _json(found.to_json())

    async def cancel_run(self, request: web.Request) -> web.Response:
        """``DELETE {prefix}/runs/{run_id}``: cancel; 200 once it ended, 202 if still ending."""
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        run = found
        if run.done:
            return _error(
                409,
                f"run {run.id} already finished in state {run.state.name}; "
                "there is nothing to cancel",
                run=run.to_json(),
            )
        run.cancel()
        with anyio.move_on_after(self.cancel_wait):
            await run.wait()
        return _json(run.to_json(), status=200 if run.done else 202)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """``GET {prefix}/runs/{run_id}/events``: server-sent events of every transition.

        The transitions so far are replayed (only those after ``Last-Event-ID`` when the
        client sends it), then live ones follow; the stream ends with an ``end`` event
        once the run has ended.
        """
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        run = found
        last_event_id = request.headers.get("Last-Event-ID", "").strip()
        after: int | None = None
        if last_event_id:
            try:
                after = int(last_event_id)
            except ValueError:
                return _error(400, (
                    f"Last-Event-ID must be the id of an event from this stream (an "
                    f"integer), got {last_event_id!r}"
                ))
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        })
        await response.prepare(request)
        subscription = run.subscribe(after=after, limit=self.manager.subscriber_queue_size)
        try:
            while (chunk := await subscription.next_chunk(self.heartbeat)) is not None:
                await response.write(chunk)
        except ConnectionResetError:
            return response  # the client went away; nothing more to send
        finally:
            run.unsubscribe(subscription)
        await response.write_eof()
        return response
