"""Recording from the event loop's own SQLite connection, and what happens when it cannot."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from asyncflow import Flow, history as history_api, task
from asyncflow._history import _appender
from asyncflow._history._appender import Appender, appender_for
from asyncflow._history._errors import HistoryError
from asyncflow._history._sqlite import SQLiteStore
from asyncflow._history._store import store_for

pytestmark = pytest.mark.anyio


@task
async def step(x: int) -> int:
    return x


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def writer_lock(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection, on which a test may hold the database's write lock."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


class _Watched:
    """An Appender whose write results a test can wait for."""

    def __init__(self, real: Appender) -> None:
        self.real = real
        self.written = real.written
        self.results: list[Any] = []
        self.tried = asyncio.Event()

    def write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any] | None:
        result = self.real.write(statements)
        self.results.append(result)
        self.tried.set()
        return result

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Any] | None:
        return self.real.read(sql, args)


async def test_a_busy_database_gets_the_write_through_aiosqlite(
    db_path: Path, writer_lock: sqlite3.Connection
) -> None:
    store = store_for(f"sqlite:///{db_path}")
    assert isinstance(store, SQLiteStore)
    async with store:
        run = await store.create_flow_run(
            flow_run_id="r", flow_name="f", state="Running", parameters="{}",
            started_at=1.0, task_count=1, graph=None,
        )
        watched = _Watched(store._appender)  # type: ignore[arg-type]
        store._appender = watched  # type: ignore[assignment]
        writer_lock.execute("BEGIN IMMEDIATE")  # another process is writing
        update = asyncio.create_task(store.finish_flow_run(
            run, state="Success", message="done", ended_at=2.0, dag_svg=None))
        await watched.tried.wait()
        assert watched.results == [None]  # refused at once, nothing written
        assert not update.done()  # aiosqlite waits for the lock
        writer_lock.execute("COMMIT")
        await update
        record = await store.get_flow_run(run)
    assert (record.state, record.message) == ("Success", "done")


async def test_the_wal_is_checkpointed_once_enough_was_written(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_appender, "CHECKPOINT_BYTES", 1)
    monkeypatch.setattr("asyncflow._history._sqlite.CHECKPOINT_BYTES", 1)
    with Flow("wide") as flow:
        for i in range(200):
            step(i)
    url = f"sqlite:///{db_path}"
    await flow.run(history=url)
    assert appender_for(db_path).written == 0  # reset by the checkpoint
    # The checkpoint copied the run into the database file itself: a copy of that file
    # alone, without its WAL, holds the run.
    copy = db_path.with_name("copy.db")
    copy.write_bytes(db_path.read_bytes())
    run = await history_api.get_run(1, url=f"sqlite:///{copy}")
    assert len(run.task_runs) == 200 and run.run.state == "Success"


def test_each_thread_keeps_a_few_connections(tmp_path: Path) -> None:
    paths = [tmp_path / f"h{i}.db" for i in range(_appender.MAX_OPEN + 1)]
    first = appender_for(paths[0])
    assert appender_for(paths[0]) is first  # kept between uses
    for path in paths[1:]:
        appender_for(path)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        first.conn.execute("SELECT 1")  # the least recently used one was closed
    assert appender_for(paths[0]) is not first


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, " * 100)
    with pytest.raises(sqlite3.DatabaseError):
        Appender(path)


async def test_a_file_with_the_layout_before_release_is_refused_with_the_fix(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conn = sqlite3.connect(db_path)
    try:
        conn.executescript(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);"
            "INSERT INTO schema_version VALUES (1);"
            "CREATE TABLE flow_runs (id INTEGER PRIMARY KEY, first_transition INTEGER NOT NULL);"
            "CREATE TABLE transitions (id INTEGER PRIMARY KEY, flow_run INTEGER NOT NULL);"
        )
    finally:
        conn.close()
    url = f"sqlite:///{db_path}"
    with pytest.raises(HistoryError, match=r"older layout.*move it aside, or set history\.url"):
        async with history_api.connect(url):
            pass
    with Flow("one") as flow:
        step(1)
    state = await flow.run(history=url)  # the run goes on, unrecorded, and says why
    assert state.is_successful()
    assert "older layout" in caplog.text


async def test_a_history_file_deleted_between_runs_is_created_again(db_path: Path) -> None:
    with Flow("one") as flow:
        step(1)
    url = f"sqlite:///{db_path}"
    await flow.run(history=url)
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    await flow.run(history=url)
    runs = await history_api.list_runs(url=url)
    assert [r.id for r in runs] == [1]  # a new file, holding the second run
