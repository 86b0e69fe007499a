"""Plain stdlib loggers in task runs: ``asyncflow.task`` and below, and the extra loggers."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncflow import Flow, context, history as history_api, task
from asyncflow.config import set_temporary_config
from asyncflow.exceptions import ConfigError
from tests.history.logs import levels_and_messages, logs_by_task_run

pytestmark = pytest.mark.anyio


class _Shown(logging.Handler):
    """What reaches the handlers of the root logger (what a user would see)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def shown() -> Iterator[_Shown]:
    """Python's default configuration (the root logger at WARNING), with a handler that
    shows every record reaching the root."""
    root = logging.getLogger()
    handler = _Shown()
    level = root.level
    root.setLevel(logging.WARNING)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_loggers_below_the_task_logger_are_captured_in_tasks_and_threads(
    history_url: str, shown: _Shown
) -> None:
    @task
    async def fetch() -> None:
        logging.getLogger("asyncflow.task.fetch").info("info from a plain logger")
        logging.getLogger("asyncflow.task.fetch.http").warning("warning from its child")

    @task
    def parse() -> None:  # in a worker thread
        logging.getLogger("asyncflow.task.parse").info("from the worker thread")

    with Flow("plain") as flow:
        fetch()
        parse()
    assert (await flow.run(history=history_url)).is_successful()

    logs = await logs_by_task_run(history_url)
    assert levels_and_messages(logs["fetch"]) == [("INFO", "info from a plain logger"),
                                        ("WARNING", "warning from its child")]
    assert levels_and_messages(logs["parse"]) == [("INFO", "from the worker thread")]
    # What is shown is still decided by the configuration: warnings only, once.
    assert shown.messages == ["warning from its child"]


async def test_a_user_logger_is_captured_once_named_in_extra_loggers(
    sqlite_url: str, shown: _Shown
) -> None:
    mine = logging.getLogger("tests.myapp")

    @task
    async def work() -> None:
        mine.info("working")
        logging.getLogger("tests.myapp.db").warning("slow query")
        logging.getLogger("tests.other").warning("not asked for")

    with Flow("extra") as flow:
        work()
    await flow.run(history=sqlite_url)
    assert levels_and_messages((await logs_by_task_run(sqlite_url))["work"]) == []

    with set_temporary_config({"logging.extra_loggers": ["tests.myapp"]}):
        await flow.run(history=sqlite_url)
    assert levels_and_messages((await logs_by_task_run(sqlite_url))["work"]) == [
        ("INFO", "working"), ("WARNING", "slow query"),
    ]
    assert shown.messages == ["slow query", "not asked for"] * 2


async def test_extra_loggers_from_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    @task
    def work() -> None:
        logging.getLogger("tests.first").warning("one")
        logging.getLogger("tests.second").warning("two")

    with Flow("env") as flow:
        work()
    monkeypatch.setenv("ASYNCFLOW__LOGGING__EXTRA_LOGGERS", '["tests.first", "tests.second"]')
    await flow.run(history=sqlite_url)
    assert [line.message for line in (await logs_by_task_run(sqlite_url))["work"]] == ["one", "two"]

    monkeypatch.setenv("ASYNCFLOW__LOGGING__EXTRA_LOGGERS", "tests.second, tests.third")
    await flow.run(history=sqlite_url)
    assert [line.message for line in (await logs_by_task_run(sqlite_url))["work"]] == ["two"]


async def test_a_line_reaching_several_captured_loggers_is_recorded_once(
    sqlite_url: str, shown: _Shown
) -> None:
    @task
    async def work() -> None:
        logging.getLogger("tests.myapp.db.pool").warning("from deep down")
        logging.getLogger("asyncflow.task.work").warning("plain task logger")
        context.logger.warning("run logger")

    with Flow("once") as flow:
        work()
    loggers = ["tests.myapp", "tests.myapp.db", "asyncflow", "tests.myapp.db.pool"]
    with set_temporary_config({"logging.extra_loggers": loggers}):
        await flow.run(history=sqlite_url)
    expected = ["from deep down", "plain task logger", "run logger"]
    assert [line.message for line in (await logs_by_task_run(sqlite_url))["work"]] == expected
    assert shown.messages == expected


async def test_a_line_logged_outside_a_task_run_is_not_captured(
    sqlite_url: str, shown: _Shown
) -> None:
    mine = logging.getLogger("tests.myapp")

    def on_flow_change(flow: Flow, old: object, new: object) -> None:
        mine.warning("from a flow state handler")

    @task
    def work() -> None:
        # A thread the task starts itself does not run in the task run's context.
        thread = threading.Thread(target=mine.warning, args=("from a bare thread",))
        thread.start()
        thread.join()
        mine.warning("from the task")

    with Flow("outside", state_handlers=[on_flow_change]) as flow:
        work()
    with set_temporary_config({"logging.extra_loggers": ["tests.myapp"]}):
        await flow.run(history=sqlite_url)
    run = (await history_api.list_runs(url=sqlite_url, limit=1))[0]
    async with history_api.connect(sqlite_url) as db:
        rows = await db.fetch("SELECT message FROM task_logs WHERE flow_run = ?", (run.id,))
    assert [r[0] for r in rows] == ["from the task"]
    assert "from a bare thread" in shown.messages
    assert shown.messages.count("from a flow state handler") == 2  # Running, Success


async def test_debug_lines_are_captured_when_the_user_enables_them(
    sqlite_url: str, shown: _Shown
) -> None:
    mine = logging.getLogger("tests.verbose")

    @task
    async def work() -> None:
        mine.debug("a detail")

    with Flow("debug") as flow:
        work()
    mine.setLevel(logging.DEBUG)
    try:
        with set_temporary_config({"logging.extra_loggers": ["tests.verbose"]}):
            await flow.run(history=sqlite_url)
    finally:
        mine.setLevel(logging.NOTSET)
    assert levels_and_messages((await logs_by_task_run(sqlite_url))["work"]) == [("DEBUG", "a detail")]
    assert shown.messages == ["a detail"]


async def test_the_loggers_are_left_as_they_were(sqlite_url: str, shown: _Shown) -> None:
    mine = logging.getLogger("tests.myapp")
    own = _Shown()
    mine.addHandler(own)
    task_logger = logging.getLogger("asyncflow.task")
    before = [(lg.level, lg.propagate, list(lg.handlers)) for lg in (mine, task_logger)]

    @task
    async def work() -> None:
        mine.info("not for the handler: below what the logger shows")
        mine.error("for the handler and the root's")

    with Flow("restored") as flow:
        work()
    try:
        with set_temporary_config({"logging.extra_loggers": ["tests.myapp"]}):
            await flow.run(history=sqlite_url)
        after = [(lg.level, lg.propagate, list(lg.handlers)) for lg in (mine, task_logger)]
    finally:
        mine.removeHandler(own)
    assert after == before
    assert own.messages == ["for the handler and the root's"]
    assert shown.messages == ["for the handler and the root's"]


async def test_a_level_the_user_sets_during_a_run_holds_and_stays(
    sqlite_url: str, shown: _Shown
) -> None:
    mine = logging.getLogger("tests.myapp")

    @task
    async def work() -> None:
        mine.info("before")
        mine.setLevel(logging.INFO)
        mine.info("after")

    with Flow("set level") as flow:
        work()
    try:
        with set_temporary_config({"logging.extra_loggers": ["tests.myapp"]}):
            await flow.run(history=sqlite_url)
        level_after = mine.level
    finally:
        mine.setLevel(logging.NOTSET)
    assert [line.message for line in (await logs_by_task_run(sqlite_url))["work"]] == [
        "before", "after"]
    assert shown.messages == ["after"]
    assert level_after == logging.INFO


SCRIPT = """\
    import asyncio
    import logging
    import sys

    from asyncflow import Flow, task
    from asyncflow.config import set_temporary_config

    db = logging.getLogger("myapp.db")
    own = logging.StreamHandler(sys.stdout)
    own.setFormatter(logging.Formatter("db handler: %(message)s"))
    db.addHandler(own)

    @task
    def work():
        logging.getLogger("myapp").info("info, not shown")
        logging.getLogger("myapp").warning("warning, shown by the last resort")
        db.info("db info, not shown")
        db.warning("db warning, shown by its own handler")

    with Flow("default") as flow:
        work()

    with set_temporary_config({"logging.extra_loggers": ["myapp"]}):
        asyncio.run(flow.run(history=sys.argv[1]))
"""


def test_without_any_logging_configuration_the_output_is_unchanged(tmp_path: Path) -> None:
    # No handler anywhere (pytest adds its own to the root logger, hence a process).
    script = tmp_path / "default_logging.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run([sys.executable, str(script), f"sqlite:///{tmp_path / 'h.db'}"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["db handler: db warning, shown by its own handler"]
    assert done.stderr.splitlines() == ["warning, shown by the last resort"]


async def test_extra_loggers_that_are_not_names_are_refused(sqlite_url: str) -> None:
    @task
    def work() -> None:
        pass

    with Flow("bad") as flow:
        work()
    with set_temporary_config({"logging.extra_loggers": {"boto3": True}}), \
            pytest.raises(ConfigError, match="list of logger names"):
        await flow.run(history=sqlite_url)
