"""A local stand-in for Slack incoming webhooks, on 127.0.0.1 and a free port.

It answers like Slack does: ``POST /services/T/B/X`` gives ``200 ok`` for a valid
message, ``400 invalid_payload`` for a body that is not a JSON object and ``400
no_text`` for one without ``text``, ``blocks`` or ``attachments``. Other paths answer
what :meth:`FakeSlack.route` says (``403 invalid_token``, ``404 channel_not_found``,
``410 channel_is_archived``, ``429`` with ``Retry-After``, ``500 rollup_error``), and
unknown paths ``404 no_service``. Every request is recorded with its arrival time.

With ``rate_limit=1.0`` it also limits like Slack under load: a path accepts at most one
message per second, and a request that comes sooner gets ``429 rate_limited`` with
``Retry-After: 1`` (whatever its route says)::

    async with FakeSlack(delay=0.02) as slack:
        url = slack.url()
        flaky = slack.route("/services/T/B/flaky", Reply.rollup_error(), Reply.ok())
        ...
        assert slack.requests[0].payload["text"]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.servers.loopback import serve_on_loopback

HOOK_PATH = "/services/T/B/X"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Reply:
    """One answer of the fake. ``validate``: answer as Slack does for the body (``ok``)."""

    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    validate: bool = False

    @classmethod
    def ok(cls) -> Reply:
        return cls(200, "ok", validate=True)

    @classmethod
    def invalid_token(cls) -> Reply:
        return cls(403, "invalid_token")

    @classmethod
    def channel_not_found(cls) -> Reply:
        return cls(404, "channel_not_found")

    @classmethod
    def channel_is_archived(cls) -> Reply:
        return cls(410, "channel_is_archived")

    @classmethod
    def rate_limited(cls, retry_after: float | str) -> Reply:
        return cls(429, "rate_limited", {"Retry-After": str(retry_after)})

    @classmethod
    def rollup_error(cls) -> Reply:
        return cls(500, "rollup_error")


@dataclass(frozen=True)
class Request:
    """A request the fake received; ``received_at`` is ``time.monotonic()`` on arrival."""

    method: str
    path: str
    body: bytes
    headers: Mapping[str, str]
    received_at: float
    status: int
    peer: tuple[str, int] | None = None  # the client's address: same peer, same connection

    @property
    def payload(self) -> Any:
        """The body decoded as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _slack_verdict(body: bytes) -> tuple[int, str]:
    try:
        payload = json.loads(body)
    except ValueError:
        return 400, "invalid_payload"
    if not isinstance(payload, dict):
        return 400, "invalid_payload"
    if not any(payload.get(key) for key in ("text", "blocks", "attachments")):
        return 400, "no_text"
    return 200, "ok"


class FakeSlack:
    """Slack's incoming webhooks, locally. Use as ``async with FakeSlack() as slack``."""

    def __init__(self, *, delay: float = 0.0, rate_limit: float | None = None) -> None:
        self.delay = delay
        self.rate_limit = rate_limit  # seconds between accepted messages on one path
        self._last_accepted: dict[str, float] = {}
        self.requests: list[Request] = []
        self._routes: dict[str, list[Reply]] = {HOOK_PATH: [Reply.ok()]}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ---- configuration --------------------------------------------------------------
    def url(self, path: str = HOOK_PATH) -> str:
        """The full URL of ``path`` on this server."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not running; use `async with FakeSlack() as slack`")
        return f"http://127.0.0.1:{self._port}{path}"

    def route(self, path: str, *replies: Reply) -> str:
        """Answer requests to ``path`` with ``replies`` in turn (the last one repeats)."""
        if not replies:
            raise ValueError("route() needs at least one Reply")
        self._routes[path] = list(replies)
        return self.url(path)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    @property
    def payloads(self) -> list[Any]:
        """The payloads Slack accepted (200 answers), in arrival order."""
        return [r.payload for r in self.requests if r.status == 200]

    # ---- serving ----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        body = await request.read()
        replies = self._routes.get(request.path)
        if replies is None:
            reply = Reply(404, "no_service")
        else:
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
        status, text, headers = reply.status, reply.body, dict(reply.headers)
        last = self._last_accepted.get(request.path)
        if self.rate_limit is not None and last is not None and (
            received_at - last < self.rate_limit
        ):
            status, text, headers = 429, "rate_limited", {"Retry-After": "1"}
        elif request.method != "POST":
            status, text = 405, "invalid_method"
        elif reply.validate:
            status, text = _slack_verdict(body)
        if 200 <= status < 300:
            self._last_accepted[request.path] = received_at
        peername = request.transport.get_extra_info("peername") if request.transport else None
        peer = (str(peername[0]), int(peername[1])) if peername else None
        self.requests.append(
            Request(
                request.method,
                request.path,
                body,
                dict(request.headers),
                received_at,
                status,
                peer,
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)  # the server's own latency, not synchronisation
        return web.Response(status=status, text=text, headers=headers)

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self._port = await serve_on_loopback(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class FakeSlackProcess:
    """:class:`FakeSlack` in a child process, so its CPU time is not the caller's.

    For benchmarks: Slack does not share the notifier's event loop. ``counts`` holds
    ``{"requests": n, "accepted": m, "payloads": [...]}`` once the block has exited::

        async with FakeSlackProcess(delay=0.02) as slack:
            url = slack.url()
    """

    def __init__(self, *, delay: float = 0.0, rate_limit: float | None = None) -> None:
        self.delay = delay
        self.rate_limit = rate_limit
        self.counts: dict[str, Any] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._port: int | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("FakeSlackProcess is not running; use `async with`")
        return self._process.pid

    def url(self, path: str = HOOK_PATH) -> str:
        if self._port is None:
            raise RuntimeError("FakeSlackProcess is not running; use `async with`")
        return f"http://127.0.0.1:{self._port}{path}"

    async def __aenter__(self) -> FakeSlackProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.servers.slack", "--delay", str(self.delay),
            *(["--rate-limit", str(self.rate_limit)] if self.rate_limit is not None else []),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO_ROOT,
        )
        assert self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            await self._process.wait()
            raise RuntimeError("the fake Slack process did not start")
        self._port = int(line)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # the child stops serving when its stdin closes
        out = await process.stdout.read()
        await process.wait()
        self._process = None
        if out.strip():
            self.counts = json.loads(out)


async def _serve_until_stdin_closes(delay: float, rate_limit: float | None) -> None:
    async with FakeSlack(delay=delay, rate_limit=rate_limit) as slack:
        print(slack._port, flush=True)
        await asyncio.to_thread(sys.stdin.read)
        accepted = sum(1 for r in slack.requests if r.status == 200)
    counts = {"requests": len(slack.requests), "accepted": accepted,
              "payloads": slack.payloads}
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve a fake Slack until stdin closes.")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None)
    options = parser.parse_args()
    asyncio.run(_serve_until_stdin_closes(options.delay, options.rate_limit))
