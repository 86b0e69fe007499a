"""Task.logger: a logger per task under ``asyncflow.task``, as Prefect's ``self.logger``."""

from __future__ import annotations

import logging

import pytest

from asyncflow import Flow, Task


class Greet(Task[str]):
    def run(self, who: str) -> str:
        self.logger.info("hello %s", who)
        return who


class AsyncGreet(Task[str]):
    async def run(self, who: str) -> str:
        self.logger.warning("hi %s", who)
        return who


def test_a_task_logs_under_its_own_name_with_the_run_in_extra(
        caplog: pytest.LogCaptureFixture) -> None:
    with Flow("greetings") as flow:
        Greet(name="greet")("ada")
        AsyncGreet(name="greet-async")("bob")
    with caplog.at_level(logging.INFO, logger="asyncflow.task"):
        state = flow.run_sync(context={"flow_run_id": "run-7"})
    assert state.is_successful()
    records = {r.name: r for r in caplog.records if r.name.startswith("asyncflow.task.")}
    assert records["asyncflow.task.greet"].getMessage() == "hello ada"
    assert records["asyncflow.task.greet-async"].getMessage() == "hi bob"
    for record in records.values():
        assert (record.__dict__["flow_name"], record.__dict__["flow_run_id"]) == (
            "greetings", "run-7")


def test_outside_a_run_the_logger_still_works(caplog: pytest.LogCaptureFixture) -> None:
    greet = Greet(name="greet")
    assert greet.logger.logger is logging.getLogger("asyncflow.task.greet")
    with caplog.at_level(logging.INFO, logger="asyncflow.task"):
        assert greet.run("eve") == "eve"
    assert [r.getMessage() for r in caplog.records] == ["hello eve"]
