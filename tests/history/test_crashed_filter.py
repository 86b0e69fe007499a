"""Filtering runs on ``Crashed`` (and on the states crashed runs are not in) in SQL,
with counts and pages right, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from asyncflow import Flow, history as history_api, task
from asyncflow._history._heartbeat import (
    HEARTBEAT_INTERVAL,
    MISSED_BEATS,
    host_name,
    process_started_at,
)

pytestmark = pytest.mark.anyio


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           check=True, capture_output=True, text=True)
    return int(child.stdout)


async def _insert(url: str, name: str, process: tuple[str, int, float | None] | None,
                  started_at: float) -> int:
    async with history_api.connect(url) as db:
        return await db.create_flow_run(
            flow_run_id=f"run-{name}", flow_name=name, state="Running", parameters="{}",
            started_at=started_at, task_count=0, graph=None, process=process,
        )


async def _record_runs(url: str) -> dict[str, int]:
    """One run of each kind, oldest first; their ids by kind."""
    @task
    def one() -> int:
        return 1

    with Flow("finished") as flow:
        one()
    await flow.run(history=url)
    now = time.time()
    late = now - (MISSED_BEATS + 1) * HEARTBEAT_INTERVAL
    parent = os.getppid()  # alive for the whole test
    parent_start = process_started_at(parent)
    assert parent_start is not None
    me = host_name()
    ids = {"finished": (await history_api.list_runs(url=url))[0].id}
    kinds: list[tuple[str, tuple[str, int, float | None] | None, float]] = [
        ("other-host-late", ("another-host", 4242, None), late),
        ("other-host-beating", ("another-host", 4243, None), now),
        ("dead-pid", (me, _dead_pid(), None), now),
        ("reused-pid", (me, parent, parent_start - 3600), now),
        ("live-pid", (me, parent, parent_start), now),
        ("this-process", (me, os.getpid(), process_started_at(os.getpid())), now),
        ("no-host", None, now),
    ]
    for offset, (name, process, started) in enumerate(kinds):
        # started_at orders the listing: keep the kinds in this order, newest last.
        ids[name] = await _insert(url, name, process, started + offset * 1e-3
                                  if name != "other-host-late" else started)
    return ids


async def test_crashed_runs_are_filtered_counted_and_paged_in_the_database(
    history_url: str,
) -> None:
    ids = await _record_runs(history_url)
    crashed = [ids["reused-pid"], ids["dead-pid"], ids["other-host-late"]]  # newest first
    async with history_api.connect(history_url) as db:
        assert await db.count_runs(state="Crashed") == 3
        found = await db.list_runs(state="Crashed")
        assert [r.id for r in found] == crashed
        assert {r.state for r in found} == {"Crashed"}
        first = await db.list_runs(state="Crashed", limit=2)
        second = await db.list_runs(state="Crashed", limit=2, offset=2)
        assert [r.id for r in first + second] == crashed
        assert await db.count_runs(state="Crashed", flow="dead-pid") == 1


async def test_running_leaves_out_the_crashed_runs(history_url: str) -> None:
    ids = await _record_runs(history_url)
    running = [ids["no-host"], ids["this-process"], ids["live-pid"],
               ids["other-host-beating"]]
    async with history_api.connect(history_url) as db:
        assert await db.count_runs(state="Running") == 4
        found = await db.list_runs(state="Running")
        assert [r.id for r in found] == running
        assert {r.state for r in found} == {"Running"}
        both = await db.list_runs(state=["Crashed", "Success"])
        assert sorted(r.id for r in both) == sorted(
            [ids["finished"], ids["reused-pid"], ids["dead-pid"], ids["other-host-late"]])
        assert await db.count_runs(state=["Crashed", "Success"]) == 4


async def test_the_public_list_runs_filters_on_crashed(history_url: str) -> None:
    ids = await _record_runs(history_url)
    found = await history_api.list_runs(url=history_url, state="Crashed", limit=1, offset=1)
    assert [r.id for r in found] == [ids["dead-pid"]]
