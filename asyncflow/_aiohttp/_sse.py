"""Server-sent events: the wire format, and one subscriber's bounded buffer.

An event is ``id``/``event``/``data`` lines and a blank line; ``data`` is one line of
JSON. The ``id`` of a transition is its sequence number in the run, so a client that
reconnects with ``Last-Event-ID`` gets exactly the events it has not seen.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Any

import anyio

from ._encoding import dumps

KEEPALIVE = b": keep-alive\n\n"


def encode_event(event: str, data: Any, *, event_id: int | None = None) -> bytes:
    """One event in ``text/event-stream`` format."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {dumps(data)}\n\n".encode()


class Subscription:
    """One client's stream of a run's events: a replay, then live events, then one final event.

    The engine tells observers of transitions synchronously and cannot wait for a slow
    client, so a subscription buffers at most ``limit`` live events. When a client falls
    further behind, :meth:`push` refuses the event; the run then ends this subscription with
    a final event saying so (see :meth:`finish`), after the events already buffered.
    Nothing a subscriber does slows the run down.
    """

    __slots__ = ("_final", "_finished", "_limit", "_live", "_replay", "_wakeup", "last_id")

    def __init__(self, replay: Iterable[bytes], *, limit: int, last_id: int | None) -> None:
        self._replay = list(replay)
        self._live: deque[bytes] = deque()
        self._limit = limit
        self._final: bytes | None = None
        self._finished = False
        self._wakeup = asyncio.Event()
        #: The id of the last event this subscription holds (replayed or live).
        self.last_id = last_id

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` was called: no more events will be accepted."""
        return self._finished

    def push(self, event_id: int, chunk: bytes) -> bool:
        """Buffer a live event; False (and nothing buffered) if the buffer is full or finished."""
        if self._finished or len(self._live) >= self._limit:
            return False
        self._live.append(chunk)
        self.last_id = event_id
        self._wakeup.set()
        return True

    def finish(self, final: bytes) -> None:
        """End the stream with ``final``, sent after what is already buffered (first call wins)."""
        if self._finished:
            return
        self._finished = True
        self._final = final
        self._wakeup.set()

    async def next_chunk(self, heartbeat: float) -> bytes | None:
        """The next bytes to send (several events at once when available); None at the end.

        Waits at most ``heartbeat`` seconds: then returns a keep-alive comment, which also
        lets the server notice a client that went away.
        """
        while True:
            if self._replay:
                chunk = b"".join(self._replay)
                self._replay.clear()
                return chunk
            if self._live:
                chunk = b"".join(self._live)
                self._live.clear()
                return chunk
            if self._final is not None:
                chunk, self._final = self._final, None
                return chunk
            if self._finished:
                return None
            self._wakeup.clear()
            with anyio.move_on_after(heartbeat):
                await self._wakeup.wait()
                continue
            return KEEPALIVE
