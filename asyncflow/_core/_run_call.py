"""What ``flow.run()`` returns: the run's coroutine, with a clear error when it is misused.

``flow.run()`` is asynchronous: ``state = await flow.run()`` inside async code, or
``asyncio.run(flow.run())``. Code written for Prefect 1.x calls ``state = flow.run()``
from a plain script and reads ``state.result`` at once; a bare coroutine would answer
with Python's "coroutine was never awaited" warning and an ``AttributeError``. The
object returned here is that coroutine (it passes ``asyncio.iscoroutine``, so
``asyncio.run`` and ``create_task`` take it), and reading a state's attribute from it
raises :class:`~asyncflow.FlowRunError` with the fix instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from ._exceptions import FlowRunError

if TYPE_CHECKING:
    from ._states import State

logger = logging.getLogger("asyncflow.engine")

_FIX = (
    "{what} returns a coroutine, not a State: nothing has run yet. In async code write "
    "`state = await {what}`; in a script or a sync test write `state = {sync}` (or "
    "`state = asyncio.run({what})`)."
)


class RunCall(Coroutine[Any, Any, "State"]):
    """The coroutine of one run; it starts the run only when awaited (or sent to)."""

    __slots__ = ("_coro", "_factory", "_sync", "_what")

    def __init__(self, factory: Callable[[], Coroutine[Any, Any, State]], what: str,
                 sync: str) -> None:
        self._factory: Callable[[], Coroutine[Any, Any, State]] | None = factory
        self._coro: Coroutine[Any, Any, State] | None = None
        self._what = what
        self._sync = sync

    def _started(self) -> Coroutine[Any, Any, State]:
        coro = self._coro
        if coro is None:
            factory = self._factory
            if factory is None:
                raise RuntimeError("cannot reuse already awaited coroutine")
            self._factory = None
            coro = self._coro = factory()
        return coro

    def __await__(self) -> Generator[Any, None, State]:
        return self._started().__await__()

    def send(self, value: Any) -> Any:
        return self._started().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if val is None and tb is None:
            return self._started().throw(typ)
        return self._started().throw(typ, val, tb)  # pragma: no cover - legacy signature

    def close(self) -> None:
        self._factory = None
        if self._coro is not None:
            self._coro.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("__", "cr_", "gi_")):  # asyncio probes a coroutine's cr_code
            raise AttributeError(name)
        raise FlowRunError(
            f"{self._what} was used as a State (.{name}) without being awaited. "
            + _FIX.format(what=self._what, sync=self._sync)
        )

    def __del__(self) -> None:
        try:
            never_started = object.__getattribute__(self, "_factory") is not None
        except AttributeError:
            return
        if never_started:
            logger.error("%s was never awaited, so the run never started. %s", self._what,
                         _FIX.format(what=self._what, sync=self._sync))

    def __repr__(self) -> str:
        return f"<{self._what} coroutine>"


def refuse_inside_running_loop(message: str) -> None:
    """Raise :class:`~asyncflow.FlowRunError` with ``message`` if an event loop runs in
    this thread: a blocking run there would block that loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise FlowRunError(message)
