"""Reading the history back: filters, pagination, pruning and the schema's version."""

from __future__ import annotations

import datetime

import pytest

from asyncflow import Flow, history as history_api, task
from asyncflow._history._schema import LATEST_VERSION
from asyncflow.history import HistoryError, HistoryStore, RunNotFoundError

pytestmark = pytest.mark.anyio

UTC = datetime.timezone.utc


@task
async def ok() -> int:
    return 1


@task
async def fails() -> None:
    raise RuntimeError("bad input")


def _flow(name: str, *, failing: bool = False) -> Flow:
    with Flow(name) as flow:
        fails() if failing else ok()
    return flow


async def _record(url: str, *names: str) -> None:
    for name in names:
        await _flow(name, failing=name.endswith("!")).run(history=url)


async def _age(db: HistoryStore, run: int, days: float) -> None:
    """Move a run's start ``days`` into the past."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE flow_runs SET started_at = started_at - ? WHERE id = ?", (days * 86400, run)
        )


async def test_runs_are_listed_newest_first_and_filtered(history_url: str) -> None:
    await _record(history_url, "load", "train!", "load", "report")
    async with history_api.connect(history_url) as db:
        assert [r.flow_name for r in await db.list_runs()] == [
            "report", "load", "train!", "load"]
        assert [r.id for r in await db.list_runs(flow="load")] == [3, 1]
        assert [r.flow_name for r in await db.list_runs(state="Failed")] == ["train!"]
        assert len(await db.list_runs(state=["Failed", "Success"])) == 4
        assert await db.count_runs(flow="load") == 2
        assert await db.flow_names() == ["load", "report", "train!"]
        await _age(db, 1, 3)
        now = datetime.datetime.now(UTC)
        assert [r.id for r in await db.list_runs(until=now - datetime.timedelta(days=1))] == [1]
        assert [r.id for r in await db.list_runs(since=now - datetime.timedelta(days=1))] == [
            4, 3, 2]


async def test_runs_come_in_pages(history_url: str) -> None:
    await _record(history_url, *[f"flow-{i}" for i in range(5)])
    pages = [await history_api.list_runs(url=history_url, limit=2, offset=o)
             for o in (0, 2, 4)]
    assert [[r.id for r in page] for page in pages] == [[5, 4], [3, 2], [1]]


async def test_a_naive_datetime_is_refused(history_url: str) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        await history_api.list_runs(url=history_url, since=datetime.datetime(2024, 1, 1))


async def test_an_id_no_database_can_hold_is_an_unknown_run(history_url: str) -> None:
    await _record(history_url, "load")
    for run in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(RunNotFoundError, match=f"no flow run {run}"):
            await history_api.get_run(run, url=history_url)
        with pytest.raises(RunNotFoundError):
            await history_api.get_task_run(run, 0, url=history_url)


@pytest.mark.parametrize(("limit", "offset", "refused"), [
    (50, 2**63, "offset"), (2**63, 0, "limit"), (-1, 0, "limit"), (50, -5, "offset"),
])
async def test_a_page_no_database_can_count_to_is_refused(
    history_url: str, limit: int, offset: int, refused: str
) -> None:
    with pytest.raises(ValueError, match=f"{refused} must be a whole number from 0 to "):
        await history_api.list_runs(url=history_url, limit=limit, offset=offset)


async def test_task_runs_can_be_filtered_by_state_and_counted(history_url: str) -> None:
    with Flow("mixed") as flow:
        ok()
        ok()
        fails()
    await flow.run(history=history_url)
    async with history_api.connect(history_url) as db:
        assert await db.state_counts(1) == {"Failed": 1, "Success": 2}
        failed = await db.task_runs(1, state="Failed")
        assert [(tr.task_name, tr.state) for tr in failed] == [("fails", "Failed")]
        assert await db.count_task_runs(1) == 3
        assert len(await db.task_runs(1, limit=2)) == 2
        assert len(await db.task_runs(1, limit=2, offset=2)) == 1


async def test_prune_keeps_the_newest_finished_runs(history_url: str) -> None:
    await _record(history_url, "a", "b", "a", "b", "a")
    assert await history_api.prune(url=history_url, keep_last=2, flow="a") == 1
    assert [r.id for r in await history_api.list_runs(url=history_url)] == [5, 4, 3, 2]
    assert await history_api.prune(url=history_url, keep_last=1) == 3
    remaining = await history_api.list_runs(url=history_url)
    assert [r.id for r in remaining] == [5]
    detail = await history_api.get_run(5, url=history_url, transitions=True)
    assert len(detail.task_runs) == 1 and len(detail.task_runs[0].transitions) == 2


async def test_prune_removes_runs_older_than_a_number_of_days(history_url: str) -> None:
    await _record(history_url, "old", "new")
    async with history_api.connect(history_url) as db:
        await _age(db, 1, 40)
        assert await db.prune(older_than=datetime.timedelta(days=30)) == 1
        assert [r.flow_name for r in await db.list_runs()] == ["new"]
        assert await db.transitions(1) == []
    assert await history_api.prune(url=history_url, older_than_days=30) == 0


async def test_prune_needs_a_rule(history_url: str) -> None:
    with pytest.raises(ValueError, match="older_than"):
        await history_api.prune(url=history_url)


async def test_the_schema_is_versioned_and_migrating_twice_changes_nothing(
    history_url: str,
) -> None:
    async with history_api.connect(history_url) as db:
        assert await db.schema_version() == LATEST_VERSION
        assert await db.migrate() == LATEST_VERSION


async def test_a_database_from_a_newer_asyncflow_is_refused(history_url: str) -> None:
    async with history_api.connect(history_url) as db, db.transaction() as conn:
        await conn.execute("UPDATE schema_version SET version = ?", (LATEST_VERSION + 1,))
    with pytest.raises(HistoryError, match="upgrade asyncflow-engine"):
        async with history_api.connect(history_url):
            pass


def test_the_public_names_are_exported() -> None:
    exported = {name for name in dir(history_api) if not name.startswith("_")}
    assert set(history_api.__all__) <= exported
    assert set(history_api.__all__) == {
        "DEFAULT_URL", "FlowRunDetail", "FlowRunRecord", "GraphChangedError", "HistoryError",
        "HistoryStore", "LogRecord", "Recorder", "RestartError", "RunFinishedError",
        "RunNotFoundError", "TaskRunRecord", "TransitionRecord", "cancel_run",
        "configured_url", "connect", "get_logs",
        "get_run", "get_task_run", "list_runs", "prune",
    }


async def test_what_a_live_view_reads(history_url: str) -> None:
    await _record(history_url, "one")
    async with history_api.connect(history_url) as db:
        assert await db.is_finished(1)
        everything = await db.transitions(1)
        assert [t.new_state for t in everything] == ["Running", "Running", "Success", "Success"]
        assert await db.last_transition_id(1) == everything[-1].id
        later = await db.transitions(1, after=everything[1].id)
        assert [t.id for t in later] == [t.id for t in everything[2:]]
        assert await db.task_names(1) == [("ok-1", "ok")]
        assert [t.task for t in await db.transitions(1, flow_only=True)] == [None, None]
