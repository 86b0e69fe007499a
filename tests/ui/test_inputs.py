"""What the dashboard refuses: numbers and dates out of range or of the wrong form are a
404 (no such run) or a 400 that says what to send, never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from asyncflow import Flow, task
from asyncflow._ui import create_app
from tests.ui.helpers import Dashboard, serve

pytestmark = pytest.mark.anyio

#: One past the largest id a database holds (a signed 64-bit integer).
PAST_MAX_ID = str(2**63)
HUGE = "99999999999999999999999"


@task
async def square(x: int) -> int:
    return x * x


@pytest.fixture
async def recorded(any_history_url: str) -> AsyncIterator[Dashboard]:
    """A dashboard over a history (of each database) holding run #1 with a mapped task."""
    with Flow("squares") as flow:
        square.map([1, 2])
    await flow.run(history=any_history_url)
    app = create_app(any_history_url, poll_interval=0.05)
    runner, base = await serve(app)
    try:
        yield Dashboard(any_history_url, base, app)
    finally:
        await runner.cleanup()


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.text()


@pytest.mark.parametrize("path", [
    f"runs/{HUGE}",
    f"runs/{PAST_MAX_ID}",
    "runs/9223372036854775807",
    f"runs/{HUGE}/tasks/0",
    f"runs/{HUGE}/tasks/0/1",
    f"runs/{HUGE}/events",
    f"runs/1/tasks/{HUGE}",
    f"runs/1/tasks/0/{HUGE}",
    "runs/1/tasks/" + "9" * 5000,  # more digits than int() reads by default
])
async def test_a_run_or_task_number_out_of_range_is_a_404(
    recorded: Dashboard, path: str
) -> None:
    assert (await _get(recorded.base + "runs/1"))[0] == 200
    status, page = await _get(recorded.base + path)
    assert status == 404, page
    assert "no such task run" in page or "There is no run #" in page


@pytest.mark.parametrize(("query", "says"), [
    ("?page=99999999999999999999", "page must be a whole number from 1 to 1000000000"),
    ("?page=0", "page must be a whole number from 1 to 1000000000"),
    ("?page=-3", "page must be a whole number from 1 to 1000000000"),
    ("?page=2.5", "page must be a whole number from 1 to 1000000000"),
    ("?page=" + "9" * 5000, "page must be a whole number from 1 to 1000000000"),
    ("?since=10000-01-01", "since must be a date such as 2024-05-31"),
    ("?until=0000-12-31", "until must be a date such as 2024-05-31"),
    ("?since=2024-02-30", "since must be a date such as 2024-05-31"),
    ("?since=2024-06-02&until=2024-06-01", "since (2024-06-02) is after until (2024-06-01)"),
    ("?flow=etl%00", "flow must not contain a NUL character"),
    ("?state=Failed%00", "state must not contain a NUL character"),
])
async def test_a_bad_runs_list_query_is_a_400_that_says_what_to_send(
    recorded: Dashboard, query: str, says: str
) -> None:
    status, page = await _get(recorded.base + query)
    assert status == 400, page
    assert says in page


@pytest.mark.parametrize("query", ["?until=9999-12-31", "?since=0001-01-01", "?page=1000000000"])
async def test_dates_and_pages_at_the_ends_of_the_range_are_answered(
    recorded: Dashboard, query: str
) -> None:
    status, page = await _get(recorded.base + query)
    assert status == 200, page


async def test_the_extreme_dates_still_filter(recorded: Dashboard) -> None:
    assert 'data-run="1"' in (await _get(recorded.base + "?until=9999-12-31"))[1]
    assert 'data-run="1"' in (await _get(recorded.base + "?since=0001-01-01"))[1]
    assert 'data-run="1"' not in (await _get(recorded.base + "?until=0001-01-01"))[1]


@pytest.mark.parametrize("query", ["?page=99999999999999999999", "?page=0", "?state=x%00"])
async def test_a_bad_run_page_query_is_a_400(recorded: Dashboard, query: str) -> None:
    status, page = await _get(recorded.base + "runs/1" + query)
    assert status == 400, page
    assert "must" in page


@pytest.mark.parametrize(("query", "headers"), [
    (f"?after={HUGE}", None),
    ("?after=-1", None),
    ("?after=one", None),
    ("", {"Last-Event-ID": HUGE}),
    ("", {"Last-Event-ID": "-5"}),
])
async def test_a_bad_event_position_is_a_400(
    recorded: Dashboard, query: str, headers: dict[str, str] | None
) -> None:
    status, page = await _get(recorded.base + "runs/1/events" + query, headers=headers)
    assert status == 400, page
    assert "a transition id: a whole number from 0 to 9223372036854775807" in page


async def test_the_largest_event_position_is_answered(recorded: Dashboard) -> None:
    status, body = await _get(recorded.base + "runs/1/events?after=9223372036854775807")
    assert status == 200
    assert body == "event: end\ndata: {}\n\n"
