"""Restarting a run whose results are in S3 (moto): kept values are read from the bucket."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asyncflow import Flow, FlowRunError, history as history_api, task
from asyncflow._results._s3 import S3Result

pytestmark = pytest.mark.anyio


async def test_a_restart_reads_kept_values_from_s3(
    make_s3: Callable[..., S3Result], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    calls: list[str] = []
    failing = {"double"}

    @task
    def fetch(i: int) -> int:
        calls.append(f"fetch {i}")
        return i * 10

    @task
    def double(x: int) -> int:
        calls.append(f"double {x}")
        if x == 20 and "double" in failing:
            raise RuntimeError("broken")
        return x * 2

    with Flow("s3 restart", result=make_s3()) as flow:
        double.map(fetch.map([1, 2, 3]))

    first = await flow.run(history=url, checkpointing=True)
    assert first.is_failed()
    kept = [tr for tr in (await history_api.get_run(1, url=url)).task_runs
            if tr.task_name == "fetch" and tr.map_index is not None]
    assert all(tr.result_location for tr in kept)
    failing.clear()
    calls.clear()

    state = await flow.run(history=url, checkpointing=True, restart_from="last")

    # fetch[1]'s value came back from the bucket: double ran on 20 without fetch running.
    assert state.is_successful() and calls == ["double 20"]
    doubled = next(s for t, s in state.result.items() if t.name == "double")
    assert doubled.map_states[1].result == 40
    # The kept children were not needed, so not read: their states point at their objects.
    old = {tr.map_index: tr.result_location for tr in
           (await history_api.get_run(1, url=url)).task_runs if tr.task_name == "double"}
    first_child = doubled.map_states[0]
    assert first_child._result.location == old[0]
    assert (await first_child._result.read(old[0] or "")).value == 20


async def test_kept_values_a_restart_did_not_read_are_loaded_from_s3(
    make_s3: Callable[..., S3Result], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    failing = {"total"}

    @task
    def fetch(i: int) -> int:
        return i * 10

    @task
    def total(values: list[int]) -> int:
        if "total" in failing:
            raise RuntimeError("broken")
        return sum(values)

    @task
    def label() -> str:
        return "numbers"

    with Flow("s3 kept", result=make_s3()) as flow:
        fetched = fetch.map([1, 2, 3])
        total(fetched)
        name = label()
    assert (await flow.run(history=url, checkpointing=True)).is_failed()
    failing.clear()

    state = await flow.run(history=url, checkpointing=True, restart_from="last")

    assert state.is_successful() and state.result_of(fetched) == [10, 20, 30]  # total's
    with pytest.raises(FlowRunError, match="load_result_of"):
        state.result_of(name)
    assert await state.load_result_of(name) == "numbers"  # read from the bucket now
    old = {tr.task_name: tr.result_location
           for tr in (await history_api.get_run(1, url=url)).task_runs}
    assert state.result[name]._result.location == old["label"]
