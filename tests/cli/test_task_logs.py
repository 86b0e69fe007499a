"""`asyncflow run`'s plain log shows what the task runs log, among the transitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import run_cli, write

LOGGING_FLOW = """\
    from asyncflow import Flow, context, task

    @task
    async def fetch(page):
        context.logger.info("fetching page %d", page)

    @task(log_stdout=True)
    def report():
        print("printed by report")
        try:
            raise KeyError("gone")
        except KeyError:
            context.logger.exception("lookup failed")

    with Flow("pages") as flow:
        fetch.map([1, 2])
        report()
"""


def test_the_plain_log_prints_each_task_runs_logs(tmp_path: Path) -> None:
    write(tmp_path / "pages.py", LOGGING_FLOW)

    done = run_cli("run", "pages.py", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.endswith("] fetch-1[0]: INFO fetching page 1") for line in lines), lines
    assert any(line.endswith("] fetch-1[1]: INFO fetching page 2") for line in lines)
    assert any(line.endswith("] report-1: INFO printed by report") for line in lines)
    failed = next(i for i, line in enumerate(lines) if "report-1: ERROR lookup failed" in line)
    assert lines[failed + 1] == " " * 11 + "Traceback (most recent call last):"
    assert lines.index(next(x for x in lines if "fetching page 1" in x)) < len(lines) - 1
    assert "flow 'pages': Success after " in lines[-1]


def test_quiet_prints_no_task_logs(tmp_path: Path) -> None:
    write(tmp_path / "pages.py", LOGGING_FLOW)

    done = run_cli("run", "pages.py", "--quiet", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "fetching page" not in done.stdout + done.stderr


PLAIN_LOGGERS_FLOW = """\
    import logging

    from asyncflow import Flow, task

    log = logging.getLogger("pages.fetching")

    @task
    def fetch(page):
        logging.getLogger("asyncflow.task.fetch").info("plain task logger %d", page)
        log.info("module logger %d", page)

    with Flow("pages") as flow:
        fetch(1)
"""


def test_the_plain_log_prints_the_lines_of_plain_and_extra_loggers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pages.py", PLAIN_LOGGERS_FLOW)
    monkeypatch.setenv("ASYNCFLOW__LOGGING__EXTRA_LOGGERS", "pages")

    done = run_cli("run", "pages.py", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.endswith("] fetch-1: INFO plain task logger 1") for line in lines), lines
    assert any(line.endswith("] fetch-1: INFO module logger 1") for line in lines), lines
