"""Local stand-ins for the alert examples: a receiver for Slack's incoming webhooks (and
any JSON webhook), and alerts printed when no destination is configured.

The receiver listens on 127.0.0.1 on a free port, answers ``ok`` like Slack, and keeps
what it received so the example can show it. Real deployments point the notifiers at
Slack. ``printed_alert`` is what the module-level flows of the alert examples use (the
ones ``asyncflow run`` runs) when no webhook or mail server is configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from asyncflow.exceptions import SecretNotFoundError
from asyncflow.secrets import Secret
from asyncflow.states import State


def is_configured(secret: str) -> bool:
    """Whether the secret is set (in the environment or the config file)."""
    try:
        Secret(secret).get_text()
    except SecretNotFoundError:
        return False
    return True


def printed_alert(
    destination: str, *, only_states: Sequence[type[State]] | None = None
) -> Callable[[Any, State, State], None]:
    """A state handler printing the alert a notifier would send to ``destination``."""
    wanted = tuple(only_states) if only_states is not None else (State,)

    def alert(obj: Any, old_state: State, new_state: State) -> None:
        if isinstance(new_state, wanted):
            name = getattr(obj, "name", obj)
            print(f"[not sent: no {destination} configured] {name}: "
                  f"{old_state.name} -> {new_state.name}: {new_state.message}")

    return alert


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
