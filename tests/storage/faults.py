"""A reverse proxy on 127.0.0.1 that forwards to a storage server and can answer in its place.

moto and the GCS emulator never throttle or refuse; real stores do. Put the proxy in front
of them and tell it which answers to give instead of the server's, e.g. S3's ``503
SlowDown``. Every request is recorded (method, path with query, headers)::

    async with FaultProxy(moto.url) as proxy:
        proxy.fail(2, Fault.s3_slow_down())
        result = S3Result("results", client_options={"endpoint_url": proxy.url, ...})
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import aiohttp
from aiohttp import web

from tests.servers.loopback import serve_on_loopback

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "transfer-encoding", "content-length", "expect", "upgrade",
    "proxy-connection", "te", "trailer",
})


@dataclass(frozen=True)
class Fault:
    """An answer the proxy gives instead of forwarding."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def s3_error(cls, status: int, code: str, message: str) -> Fault:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>proxy</RequestId></Error>"
        ).encode()
        return cls(status, body, {"Content-Type": "application/xml"})

    @classmethod
    def s3_slow_down(cls) -> Fault:
        return cls.s3_error(503, "SlowDown", "Please reduce your request rate.")

    @classmethod
    def gcs_error(cls, status: int, message: str, reason: str = "error") -> Fault:
        error = {"code": status, "message": message,
                 "errors": [{"reason": reason, "message": message}]}
        body = json.dumps({"error": error}).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=UTF-8"})


@dataclass(frozen=True)
class Seen:
    """A request the proxy received."""

    method: str
    path_qs: str
    headers: Mapping[str, str]
    answered_by_proxy: bool


Matcher = Callable[[web.Request], bool]


class FaultProxy:
    """Forwards every request to ``upstream``, except those a pending fault answers."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.seen: list[Seen] = []
        #: Requests being handled now, and the most handled at once so far.
        self.in_flight = 0
        self.max_in_flight = 0
        self._faults: list[tuple[Matcher, Fault]] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FaultProxy is not running; use `async with FaultProxy(...)`")
        return f"http://127.0.0.1:{self._port}"

    def fail(self, times: int, fault: Fault, when: Matcher | None = None) -> None:
        """Answer the next ``times`` requests matching ``when`` (default: any) with ``fault``."""
        matcher: Matcher = when if when is not None else (lambda request: True)
        self._faults.extend((matcher, fault) for _ in range(times))

    @property
    def pending(self) -> int:
        """Faults not given yet."""
        return len(self._faults)

    def _take(self, request: web.Request) -> Fault | None:
        for index, (matcher, fault) in enumerate(self._faults):
            if matcher(request):
                del self._faults[index]
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = self._take(request)
        self.seen.append(Seen(request.method, request.path_qs, dict(request.headers),
                              fault is not None))
        if fault is not None:
            return web.Response(status=fault.status, body=fault.body, headers=dict(fault.headers))
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._client.request(
            request.method, f"{self.upstream}{request.path_qs}", headers=headers, data=body,
            allow_redirects=False, auto_decompress=False,
        ) as upstream:
            payload = await upstream.read()
            reply_headers = {
                k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP
            }
            return web.Response(status=upstream.status, body=payload, headers=reply_headers)

    async def __aenter__(self) -> FaultProxy:
        self._client = aiohttp.ClientSession(skip_auto_headers=("User-Agent",))
        app = web.Application(client_max_size=64 * 1024 * 1024)
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
        if self._client is not None:
            await self._client.close()
            self._client = None
