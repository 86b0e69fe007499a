"""Task run logs in the history: captured per task run, redacted, bounded and paged."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from asyncflow import Flow, context, history as history_api, task
from asyncflow._history import _logs
from asyncflow._history._schema import LATEST_VERSION, MIGRATIONS, SQLITE
from asyncflow.history import LogRecord
from asyncflow.notifications import webhook_notifier
from asyncflow.states import Paused

pytestmark = pytest.mark.anyio


async def _logs_of(url: str, full_name: str, **options: object) -> list[LogRecord]:
    run = (await history_api.list_runs(url=url, limit=1))[0]
    detail = await history_api.get_run(run.id, url=url)
    found = {tr.full_name: tr for tr in detail.task_runs}[full_name]
    return await history_api.get_logs(run.id, found.task, found.map_index, url=url,
                                      **options)  # type: ignore[arg-type]


def _messages(lines: list[LogRecord]) -> list[str]:
    return [line.message for line in lines]


async def test_what_a_task_logs_is_recorded_with_its_level_and_time(history_url: str) -> None:
    @task
    async def report(n: int) -> int:
        context.logger.info("processing %d rows", n)
        report.logger.warning("row %d is odd", 3)
        return n

    with Flow("logs") as flow:
        report(7)
    state = await flow.run(history=history_url)
    assert state.is_successful()

    lines = await _logs_of(history_url, "report")
    assert [(line.level, line.message) for line in lines] == [
        ("INFO", "processing 7 rows"), ("WARNING", "row 3 is odd"),
    ]
    assert lines[0].id < lines[1].id
    assert lines[0].levelno == logging.INFO and lines[0].run_count == 1
    assert lines[0].at <= lines[1].at
    assert lines[0].at.tzinfo is not None


async def test_info_is_recorded_even_when_the_logger_shows_only_warnings(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    @task
    async def chatty() -> None:
        context.logger.debug("not recorded: below INFO and below the logger's level")
        context.logger.info("recorded, not shown")

    caplog.set_level(logging.WARNING)
    with Flow("quiet") as flow:
        chatty()
    await flow.run(history=sqlite_url)
    assert _messages(await _logs_of(sqlite_url, "chatty")) == ["recorded, not shown"]
    assert "recorded, not shown" not in caplog.text  # the logger's level still decides


async def test_debug_is_recorded_when_the_logger_is_enabled_for_it(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    @task
    async def chatty() -> None:
        context.logger.debug("a detail")

    caplog.set_level(logging.DEBUG, logger="asyncflow.task")
    with Flow("verbose") as flow:
        chatty()
    await flow.run(history=sqlite_url)
    assert _messages(await _logs_of(sqlite_url, "chatty")) == ["a detail"]
    assert [r.funcName for r in caplog.records if r.getMessage() == "a detail"] == ["chatty"]


async def test_concurrent_task_runs_each_keep_their_own_lines(history_url: str) -> None:
    @task
    async def child(i: int) -> None:
        for step in range(3):
            context.logger.info("child %d step %d", i, step)
            await anyio.lowlevel.checkpoint()  # let the other children log in between

    @task
    def threaded(i: int) -> None:
        for step in range(3):
            context.logger.info("thread %d step %d", i, step)

    with Flow("fan") as flow:
        child.map(list(range(20)))
        threaded.map(list(range(4)))
    await flow.run(history=history_url)
    for i in (0, 7, 19):
        assert _messages(await _logs_of(history_url, f"child[{i}]")) == [
            f"child {i} step {s}" for s in range(3)
        ]
    for i in range(4):
        assert _messages(await _logs_of(history_url, f"threaded[{i}]")) == [
            f"thread {i} step {s}" for s in range(3)
        ]


async def test_an_exception_logged_keeps_its_traceback(sqlite_url: str) -> None:
    @task
    async def fragile() -> None:
        table: dict[str, int] = {}
        try:
            table["missing"]
        except KeyError:
            context.logger.exception("lookup failed")

    with Flow("tb") as flow:
        fragile()
    await flow.run(history=sqlite_url)
    (line,) = await _logs_of(sqlite_url, "fragile")
    assert line.level == "ERROR"
    assert line.message.startswith("lookup failed\nTraceback")
    assert "KeyError: 'missing'" in line.message


async def test_log_stdout_records_the_prints_of_that_task_only(
    history_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    @task(log_stdout=True)
    async def printer(i: int) -> None:
        print("part", i, end="")
        await anyio.lowlevel.checkpoint()
        print(" done")
        print("unfinished", i, end="")

    @task(log_stdout=True)
    def sync_printer() -> None:
        print("from a worker thread")

    @task
    async def plain(i: int) -> None:
        await anyio.lowlevel.checkpoint()
        print("plain", i)

    with Flow("prints") as flow:
        printer.map([1, 2])
        plain.map([1, 2])
        sync_printer()
    await flow.run(history=history_url)
    out = capsys.readouterr().out
    assert "plain 1\n" in out and "plain 2\n" in out
    assert "part" not in out and "worker thread" not in out
    assert _messages(await _logs_of(history_url, "printer[1]")) == ["part 2 done",
                                                                   "unfinished 2"]
    assert _messages(await _logs_of(history_url, "sync_printer")) == ["from a worker thread"]
    assert await _logs_of(history_url, "plain[0]") == []


async def test_secrets_and_webhook_urls_are_redacted_before_storage(
    history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = "http://127.0.0.1:9/services/T0001/B0002/s3cr3tT0ken"
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__DB_PASSWORD", "pa55-from-env")

    @task(state_handlers=[webhook_notifier(hook, only_states=[Paused])])
    async def leaky() -> None:
        context.logger.info("token %s", context.secrets["API_TOKEN"])
        context.logger.info("password pa55-from-env")
        context.logger.info("posting to %s", hook)
        context.logger.info("path /services/T0001/B0002/s3cr3tT0ken")

    with Flow("secrets") as flow:
        leaky()
    await flow.run(history=history_url, context={"secrets": {"API_TOKEN": "tok-12345"}})
    assert _messages(await _logs_of(history_url, "leaky")) == [
        "token **********", "password **********", "posting to **********",
        "path **********",
    ]


async def test_a_long_log_is_read_a_page_at_a_time_and_filtered_by_level(
    history_url: str,
) -> None:
    @task
    def verbose() -> None:
        for i in range(2500):
            context.logger.log(logging.WARNING if i % 100 == 0 else logging.INFO, "line %d", i)

    with Flow("long") as flow:
        verbose()
    await flow.run(history=history_url)
    first = await _logs_of(history_url, "verbose")
    assert len(first) == _logs.DEFAULT_LIMIT
    assert first[0].message == "line 0"
    rest = await _logs_of(history_url, "verbose", after=first[-1].id, limit=None)
    assert _messages(first + rest) == [f"line {i}" for i in range(2500)]
    warnings = await _logs_of(history_url, "verbose", level="warning")
    assert _messages(warnings) == [f"line {i}" for i in range(0, 2500, 100)]
    assert await _logs_of(history_url, "verbose", level=logging.ERROR) == []


async def test_a_bad_level_is_refused_with_the_names_to_use(sqlite_url: str) -> None:
    @task
    async def one() -> None:
        return None

    with Flow("one") as flow:
        one()
    await flow.run(history=sqlite_url)
    with pytest.raises(ValueError, match="such as 'INFO' or 'WARNING'"):
        await _logs_of(sqlite_url, "one", level="LOUD")


async def test_lines_beyond_what_may_wait_are_counted_not_kept(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_logs, "MAX_PENDING", 100)

    @task
    async def flood() -> None:
        for i in range(250):  # no await: nothing is written meanwhile
            context.logger.info("line %d", i)

    with Flow("flood") as flow:
        flood()
    await flow.run(history=sqlite_url)
    lines = await _logs_of(sqlite_url, "flood", limit=None)
    assert _messages(lines[:100]) == [f"line {i}" for i in range(100)]
    assert lines[-1].level == "WARNING"
    assert "150 log lines of this task run were not recorded" in lines[-1].message
    assert len(lines) == 101


async def test_a_huge_message_keeps_its_start(sqlite_url: str) -> None:
    @task
    async def dump() -> None:
        context.logger.info("x" * (_logs.MAX_MESSAGE_CHARS + 500))

    with Flow("dump") as flow:
        dump()
    await flow.run(history=sqlite_url)
    (line,) = await _logs_of(sqlite_url, "dump")
    assert line.message == "x" * _logs.MAX_MESSAGE_CHARS + " ... (500 more characters)"


async def test_each_attempt_is_told_apart(sqlite_url: str) -> None:
    import datetime

    @task(max_retries=1, retry_delay=datetime.timedelta(0))
    async def flaky() -> None:
        context.logger.info("attempt %d", context.task_run_count)
        if context.task_run_count == 1:
            raise RuntimeError("first time fails")

    with Flow("retry") as flow:
        flaky()
    await flow.run(history=sqlite_url)
    lines = await _logs_of(sqlite_url, "flaky")
    assert [(line.run_count, line.message) for line in lines] == [(1, "attempt 1"),
                                                                  (2, "attempt 2")]


async def test_pruning_a_run_deletes_its_logs(history_url: str) -> None:
    @task
    async def speak() -> None:
        context.logger.info("hello")

    with Flow("prune") as flow:
        speak()
    await flow.run(history=history_url)
    run = (await history_api.list_runs(url=history_url))[0]
    assert await history_api.prune(url=history_url, keep_last=0) == 1
    async with history_api.connect(history_url) as db:
        assert await db.get_logs(run.id, 0) == []
        assert await db.fetch("SELECT COUNT(*) FROM task_logs") in ([(0,)], [[0]])


async def test_a_database_of_schema_1_gains_the_logs_table_and_keeps_its_runs(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"

    @task
    async def speak() -> None:
        context.logger.info("hello again")

    with Flow("old") as flow:
        speak()
    # A database as asyncflow before the logs left it: the first schema, one run in it.
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    for statement in MIGRATIONS[0].sql(SQLITE):
        conn.execute(statement)
    conn.execute("INSERT INTO flow_runs (flow_run_id, flow_name, state, parameters, "
                 "started_at, updated_at, task_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 ("old-run", "old", "Success", "{}", 1.0, 2.0, 1))
    conn.commit()
    conn.close()

    await flow.run(history=url)
    runs = await history_api.list_runs(url=url)
    assert len(runs) == 2
    async with history_api.connect(url) as db:
        assert await db.schema_version() == LATEST_VERSION
    assert _messages(await _logs_of(url, "speak")) == ["hello again"]


async def test_records_name_the_function_that_logged_them(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    @task
    async def named() -> None:
        context.logger.warning("who called?")

    with Flow("caller") as flow:
        named()
    await flow.run(history=False)  # nothing captured
    await flow.run(history=sqlite_url)  # captured
    assert [r.funcName for r in caplog.records if r.getMessage() == "who called?"] == [
        "named", "named",
    ]


async def test_concurrent_runs_sharing_a_database_keep_their_own_lines(sqlite_url: str) -> None:
    from asyncflow import Parameter

    @task
    async def say(word: str) -> None:
        await anyio.lowlevel.checkpoint()
        context.logger.info("said %s", word)

    with Flow("echo") as flow:
        say(Parameter("word"))
    async def run_with(word: str) -> None:
        await flow.run(parameters={"word": word}, history=sqlite_url)

    async with anyio.create_task_group() as tg:
        for word in ("alpha", "beta", "gamma"):
            tg.start_soon(run_with, word)
    runs = await history_api.list_runs(url=sqlite_url)
    assert len(runs) == 3
    for run in runs:
        (line,) = await history_api.get_logs(run.id, 1, url=sqlite_url)
        assert line.message == f"said {run.parameters['word']}"
