"""What task bodies log on Dask workers reaches the run history, per task run."""

from __future__ import annotations

import datetime
import logging
import os
import time
from pathlib import Path

import pytest
from distributed import LocalCluster

from asyncflow import Flow, context, task
from asyncflow.config import set_temporary_config
from asyncflow.executors import DaskExecutor
from asyncflow.states import Failed
from tests.dask.helpers import child_state, children
from tests.history.logs import levels_and_messages, logs_by_task_run

pytestmark = pytest.mark.anyio

mine = logging.getLogger("tests.dask.myapp")


@task(log_stdout=True)
def sync_body(i: int) -> tuple[int, float]:
    context.logger.info("context logger %d", i)
    logging.getLogger("asyncflow.task.sync_body.detail").info("child logger %d", i)
    mine.warning("extra logger %d", i)
    print("printed", i)
    print("unfinished", i, end="")
    return os.getpid(), time.time()


@task(log_stdout=True)
async def async_body(i: int) -> tuple[int, float]:
    context.logger.info("context logger %d", i)
    logging.getLogger("tests.dask.myapp.db").info("extra child %d", i)
    print("printed", i)
    return os.getpid(), time.time()


@task(max_retries=1, retry_delay=datetime.timedelta(0))
def flaky() -> None:
    context.logger.info("attempt %d with %s", context.task_run_count,
                        context.secrets["API_TOKEN"])
    if context.task_run_count == 1:
        raise ValueError("the first attempt fails")


@task
async def failing() -> None:
    context.logger.error("about to fail")
    raise RuntimeError("boom")


async def test_what_bodies_log_and_print_on_workers_is_recorded_per_task_run(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    with Flow("on workers") as flow:
        synced = sync_body.map([0, 1, 2])
        awaited = async_body.map([0, 1])
    started = time.time()
    with set_temporary_config({"logging.extra_loggers": ["tests.dask.myapp"]}):
        state = await flow.run(history=url, executor=DaskExecutor(cluster.scheduler_address))
    assert state.is_successful()

    logs = await logs_by_task_run(url)
    for i, child in enumerate(children(state, synced)):
        assert levels_and_messages(logs[f"sync_body[{i}]"]) == [
            ("INFO", f"context logger {i}"), ("INFO", f"child logger {i}"),
            ("WARNING", f"extra logger {i}"), ("INFO", f"printed {i}"),
            ("INFO", f"unfinished {i}"),
        ]
        _, returned_at = child.result
        # The times are the worker's, when each line was logged (not when it arrived).
        assert all(started <= r.at.timestamp() <= returned_at
                   for r in logs[f"sync_body[{i}]"][:4])
    for i, child in enumerate(children(state, awaited)):
        assert levels_and_messages(logs[f"async_body[{i}]"]) == [
            ("INFO", f"context logger {i}"), ("INFO", f"extra child {i}"),
            ("INFO", f"printed {i}"),
        ]
        assert logs[f"async_body[{i}]"][-1].at.timestamp() <= child.result[1]
    if cluster.processes:
        pids = {child.result[0] for child in children(state, synced)}
        assert os.getpid() not in pids


async def test_each_attempt_and_a_failure_keep_their_lines_redacted(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    with Flow("attempts") as flow:
        retried = flaky()
        failed = failing()
    state = await flow.run(history=url, executor=DaskExecutor(cluster.scheduler_address),
                           context={"secrets": {"API_TOKEN": "tok-8e1f9a"}})
    assert child_state(state, retried).is_successful()
    assert isinstance(child_state(state, failed), Failed)

    logs = await logs_by_task_run(url)
    assert [(r.run_count, r.message) for r in logs["flaky"]] == [
        (1, "attempt 1 with **********"), (2, "attempt 2 with **********"),
    ]
    assert levels_and_messages(logs["failing"]) == [("ERROR", "about to fail")]


async def test_a_logger_not_named_in_extra_loggers_is_not_recorded(
    process_cluster: LocalCluster, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    with Flow("no extra loggers") as flow:
        sync_body(7)
    state = await flow.run(history=url,
                           executor=DaskExecutor(process_cluster.scheduler_address))
    assert state.is_successful()
    assert levels_and_messages((await logs_by_task_run(url))["sync_body"]) == [
        ("INFO", "context logger 7"), ("INFO", "child logger 7"), ("INFO", "printed 7"),
        ("INFO", "unfinished 7"),
    ]
