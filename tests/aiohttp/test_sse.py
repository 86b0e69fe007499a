"""The server-sent events format and one subscriber's bounded buffer, without a server."""

from __future__ import annotations

import anyio
import pytest

from asyncflow._aiohttp._sse import KEEPALIVE, Subscription, encode_event


def test_an_event_is_id_event_and_one_data_line() -> None:
    chunk = encode_event("transition", {"text": "two\nlines", "n": 1}, event_id=7)

    assert chunk == b'id: 7\nevent: transition\ndata: {"text":"two\\nlines","n":1}\n\n'
    assert encode_event("end", {}) == b"event: end\ndata: {}\n\n"


@pytest.mark.anyio
async def test_replay_comes_first_then_live_events_then_the_final_event() -> None:
    subscription = Subscription([b"r1", b"r2"], limit=10, last_id=2)
    assert subscription.push(3, b"l3")
    subscription.finish(b"end")

    chunks = []
    with anyio.fail_after(5):
        while (chunk := await subscription.next_chunk(heartbeat=5)) is not None:
            chunks.append(chunk)

    assert chunks == [b"r1r2", b"l3", b"end"]


def test_a_full_buffer_refuses_events_and_keeps_the_last_accepted_id() -> None:
    subscription = Subscription([], limit=2, last_id=None)

    accepted = [subscription.push(i, f"e{i}".encode()) for i in range(1, 5)]

    assert accepted == [True, True, False, False]
    assert subscription.last_id == 2


def test_the_first_final_event_wins_and_nothing_is_accepted_after_it() -> None:
    subscription = Subscription([], limit=2, last_id=None)
    subscription.finish(b"overflow")
    subscription.finish(b"end")

    assert subscription.finished
    assert not subscription.push(1, b"late")


@pytest.mark.anyio
async def test_an_idle_stream_sends_a_keepalive_comment() -> None:
    subscription = Subscription([], limit=2, last_id=None)

    with anyio.fail_after(5):
        assert await subscription.next_chunk(heartbeat=0.01) == KEEPALIVE


@pytest.mark.anyio
async def test_a_waiting_stream_wakes_up_for_a_live_event() -> None:
    subscription = Subscription([], limit=2, last_id=None)
    received: list[bytes | None] = []

    async def read() -> None:
        received.append(await subscription.next_chunk(heartbeat=30))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(read)
            await anyio.wait_all_tasks_blocked()
            subscription.push(1, b"e1")

    assert received == [b"e1"]
