"""Server-sent events from the history: poll for what was recorded after the last event
sent, until the run is finished or the dashboard stops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio
from aiohttp import web

#: Seconds without an event after which a comment line keeps proxies from closing the stream.
KEEPALIVE_SECONDS = 15.0

Item = TypeVar("Item")


async def poll_events(
    request: web.Request,
    *,
    after: int,
    page: int,
    read: Callable[[int], Awaitable[Sequence[Item]]],
    finished: Callable[[], Awaitable[bool]],
    event: Callable[[Item], bytes],
    item_id: Callable[[Item], int],
    stopping: asyncio.Event,
    interval: float,
) -> web.StreamResponse:
    """Stream ``event(item)`` for every item ``read(after)`` returns (``page`` at most per
    read), then an ``end`` event once ``finished()`` said so before a read found nothing."""
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    try:
        while not stopping.is_set():
            done = await finished()  # before reading: nothing recorded after it is missed
            items = await read(after)
            for item in items:
                await response.write(event(item))
                after = item_id(item)
            if items:
                quiet_since = loop.time()
                if len(items) == page:
                    continue
            if done:
                await response.write(b"event: end\ndata: {}\n\n")
                break
            if loop.time() - quiet_since >= KEEPALIVE_SECONDS:
                await response.write(b": keep-alive\n\n")
                quiet_since = loop.time()
            with anyio.move_on_after(interval):
                await stopping.wait()
    except ConnectionResetError:  # the browser went away
        pass
    return response
