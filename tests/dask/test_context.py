"""The run context, configuration and secrets reach task bodies on Dask workers."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from asyncflow import Flow, Parameter, context, task
from asyncflow.executors import DaskExecutor
from asyncflow.secrets import Secret
from tests.dask.helpers import child_state, children

pytestmark = pytest.mark.anyio


@task
def report(x: int) -> dict[str, Any]:
    return {
        "x": x,
        "pid": os.getpid(),
        "flow_name": context.flow_name,
        "flow_run_id": context.flow_run_id,
        "task_name": context.task_name,
        "task_full_name": context.task_full_name,
        "map_index": context.map_index,
        "task_run_count": context.task_run_count,
        "task_run_id": context.task_run_id,
        "parameters": dict(context.parameters),
        "team": context.get("team"),
        "today": context.today,
        "checkpointing": context.config.flows.checkpointing,
    }


@task
async def async_report() -> dict[str, Any]:
    return {"task_name": context.task_name, "map_index": context.map_index,
            "pid": os.getpid(), "flow_name": context.flow_name}


async def test_context_keys_on_workers(address: str) -> None:
    with Flow("context") as flow:
        size = Parameter("size", default=3)
        reports = report.map([10, 20, 30])
        single = async_report()
    state = await flow.run(parameters={"size": 3}, context={"team": "data"},
                           executor=DaskExecutor(address))
    assert state.is_successful()
    seen = [s.result for s in children(state, reports)]
    assert [r["x"] for r in seen] == [10, 20, 30]
    assert [r["map_index"] for r in seen] == [0, 1, 2]
    assert {r["task_name"] for r in seen} == {"report"}
    assert [r["task_full_name"] for r in seen] == ["report[0]", "report[1]", "report[2]"]
    assert {r["task_run_count"] for r in seen} == {1}
    assert len({r["task_run_id"] for r in seen}) == 3
    assert {r["flow_name"] for r in seen} == {"context"}
    assert {r["team"] for r in seen} == {"data"}
    assert all(r["parameters"] == {"size": 3} for r in seen)
    assert len({r["flow_run_id"] for r in seen}) == 1
    assert {r["checkpointing"] for r in seen} == {True}
    assert child_state(state, single).result["task_name"] == "async_report"
    assert child_state(state, single).result["map_index"] is None
    assert size in flow.tasks


@task
def read_secrets() -> dict[str, Any]:
    return {
        "from_context": Secret("API_TOKEN").get(),
        "from_env": Secret("ENV_TOKEN").get(),
        "from_file": Secret("FILE_TOKEN").get(),
        "pid": os.getpid(),
    }


async def test_secrets_and_configuration_reach_process_workers(
    process_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set in the driver only: the worker processes started before and never saw these.
    config = tmp_path / "config.toml"
    config.write_text('[context.secrets]\nFILE_TOKEN = "from-the-file"\n', encoding="utf-8")
    monkeypatch.setenv("ASYNCFLOW__USER_CONFIG_PATH", str(config))
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__ENV_TOKEN", "from-the-env")
    with Flow("secrets") as flow:
        found = read_secrets()
    state = await flow.run(context={"secrets": {"API_TOKEN": "from-the-context"}},
                           executor=DaskExecutor(process_cluster.scheduler_address))
    values = child_state(state, found).result
    assert values["pid"] != os.getpid()
    assert values["from_context"] == "from-the-context"
    assert values["from_env"] == "from-the-env"
    assert values["from_file"] == "from-the-file"


@task
def sees_handle() -> bool:
    return "handle" in context


async def test_unpicklable_context_values_stay_in_the_driver(
    address: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Flow("handles") as flow:
        seen = sees_handle()
    with caplog.at_level(logging.WARNING, logger="asyncflow.dask"):
        state = await flow.run(context={"handle": threading.Lock()},
                               executor=DaskExecutor(address))
    assert child_state(state, seen).result is False
    assert "context keys handle cannot be pickled" in caplog.text


@task
def overlay_value() -> Any:
    return context.get("extra")


async def test_context_overlay_reaches_workers(address: str) -> None:
    with Flow("overlay") as flow:
        seen = overlay_value()
    with context(extra="from-the-overlay"):
        state = await flow.run(executor=DaskExecutor(address))
    assert child_state(state, seen).result == "from-the-overlay"
