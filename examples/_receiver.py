"""A local stand-in for Slack's incoming webhooks (and any JSON webhook), for the examples.

It listens on 127.0.0.1 on a free port, answers ``ok`` like Slack, and keeps what it
received so the example can show it. Real deployments point the notifiers at Slack.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

from aiohttp import web


class LocalReceiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    def url(self, path: str = "/services/T000/B000/XXXX") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> LocalReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
