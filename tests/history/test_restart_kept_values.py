"""Values a restart kept without reading them: never a silent None, read on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncflow import Flow, FlowRunError, task
from asyncflow.results import JSONResult, LocalResult, Result, UnreadValue
from asyncflow.states import Mapped
from tests.history.test_restart import _by_name, _chain

pytestmark = pytest.mark.anyio


async def test_a_kept_value_nobody_needed_is_read_on_demand(
    history_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    failing = {"report"}
    flow = _chain(calls, failing, tmp_path / "results")
    await flow.run(history=history_url, checkpointing=True)
    failing.clear()
    state = await flow.run(history=history_url, checkpointing=True, restart_from=1)
    load = next(t for t in flow.tasks if t.name == "load")
    clean = next(t for t in flow.tasks if t.name == "clean")

    assert state.is_successful()
    assert state.result_of(clean) == 3  # report needed it: read during the restart
    kept = _by_name(state)["load"]
    assert isinstance(kept.result, UnreadValue) and kept.result is not None
    assert "await state.load_result()" in repr(kept.result)
    with pytest.raises(FlowRunError, match=r"load_result_of\(task\)") as raised:
        state.result_of(load)
    assert str(kept._result.location) in str(raised.value)

    assert await state.load_result_of(load) == 2
    assert state.result_of(load) == 2 and kept.result == 2  # the state keeps it
    assert await kept.load_result() == 2


async def test_kept_children_of_a_map_are_read_on_demand(
    sqlite_url: str, tmp_path: Path
) -> None:
    broken = {2}

    @task
    def fetch(i: int) -> int:
        return i * 10

    @task
    def double(x: int) -> int:
        if x // 10 in broken:
            raise RuntimeError("broken")
        return x * 2

    with Flow("map", result=LocalResult(dir=str(tmp_path / "results"))) as flow:
        doubled = double.map(fetch.map([1, 2, 3]))
    fetched = next(t for t in flow.tasks if t.name == "fetch")
    await flow.run(history=sqlite_url, checkpointing=True)
    broken.clear()
    state = await flow.run(history=sqlite_url, checkpointing=True, restart_from="last")

    assert state.is_successful()
    # double[1] ran again; double[0] and double[2] were kept and not needed.
    with pytest.raises(FlowRunError, match="load_result_of"):
        state.result_of(doubled)
    assert await state.load_result_of(doubled) == [20, 40, 60]
    assert state.result_of(doubled) == [20, 40, 60]
    # fetch was kept whole; only fetch[1] was needed (by double[1]).
    mapped = state.result[fetched]
    assert isinstance(mapped, Mapped) and mapped.map_states[1].result == 20
    assert isinstance(mapped.map_states[0].result, UnreadValue)
    assert await mapped.load_result() == [10, 20, 30]
    assert state.result_of(fetched) == [10, 20, 30]


async def test_a_kept_value_that_was_not_persisted_says_it_cannot_be_read(
    sqlite_url: str,
) -> None:
    failing = {"second"}

    @task
    def first() -> int:
        return 1

    @task
    def second() -> int:
        if "second" in failing:
            raise RuntimeError("broken")
        return 2

    with Flow("in memory", result=Result()) as flow:
        kept_task = first()
        second()
    await flow.run(history=sqlite_url)
    failing.clear()
    state = await flow.run(history=sqlite_url, restart_from="last")

    assert state.is_successful()
    with pytest.raises(FlowRunError, match="not persisted"):
        state.result_of(kept_task)
    with pytest.raises(FlowRunError, match="not persisted"):
        await state.load_result_of(kept_task)


async def test_a_run_that_kept_nothing_loads_what_result_of_gives(sqlite_url: str) -> None:
    @task
    def one() -> int:
        return 1

    with Flow("plain") as flow:
        t = one()
    state = await flow.run(history=sqlite_url)
    assert await state.load_result_of(t) == state.result_of(t) == 1


async def test_a_kept_json_value_is_read_from_the_history(history_url: str) -> None:
    failing = {"other"}

    @task
    def make() -> dict[str, int]:
        return {"a": 1}

    @task
    def other() -> int:
        if "other" in failing:
            raise RuntimeError("broken")
        return 2

    with Flow("json kept", result=JSONResult()) as flow:
        made = make()
        other()
    await flow.run(history=history_url, checkpointing=True)
    failing.clear()
    state = await flow.run(history=history_url, checkpointing=True, restart_from="last")

    assert isinstance(state.result[made].result, UnreadValue)
    assert await state.load_result_of(made) == {"a": 1}
