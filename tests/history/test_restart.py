"""flow.run(restart_from=...): a recorded run finished from the history, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from asyncflow import Flow, Parameter, history as history_api, task
from asyncflow.history import GraphChangedError, RestartError
from asyncflow.results import JSONResult, LocalResult
from asyncflow.states import Failed, Mapped, State, Success

pytestmark = pytest.mark.anyio


def _by_name(state: State) -> dict[str, State]:
    return {t.name: s for t, s in state.result.items()}


def _chain(calls: list[str], failing: set[str], results: Path) -> Flow:
    """load -> clean -> report, each persisted; a task named in ``failing`` raises."""

    def step(name: str) -> Any:
        @task(name=name)
        def body(x: int) -> int:
            calls.append(name)
            if name in failing:
                raise RuntimeError(f"{name} is broken")
            return x + 1

        return body

    with Flow("chain", result=LocalResult(dir=str(results))) as flow:
        start = Parameter("start", default=1)
        step("report")(step("clean")(step("load")(start)))
    return flow


async def test_a_failed_run_restarts_without_running_its_succeeded_tasks_again(
    history_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    failing = {"report"}
    flow = _chain(calls, failing, tmp_path / "results")
    first = await flow.run(history=history_url, checkpointing=True)
    assert isinstance(first, Failed) and calls == ["load", "clean", "report"]
    old = {tr.task_name: tr for tr in (await history_api.get_run(1, url=history_url)).task_runs}

    failing.clear()  # the bug is fixed
    calls.clear()
    state = await flow.run(history=history_url, checkpointing=True, restart_from=1)

    assert state.is_successful() and calls == ["report"]
    states = _by_name(state)
    assert states["report"].result == 4  # from clean's value, read back from its file
    for name in ("load", "clean"):
        assert (states[name].message or "").startswith("Kept from flow run 1")
        assert states[name]._result.location == old[name].result_location
    runs = await history_api.list_runs(url=history_url)
    assert [(r.id, r.state, r.restart_of) for r in runs] == [
        (2, "Success", 1), (1, "Failed", None)]
    new = {tr.task_name: tr for tr in (await history_api.get_run(2, url=history_url)).task_runs}
    assert new["clean"].state == "Success"
    assert new["clean"].result_location == old["clean"].result_location


def test_run_sync_restarts_the_last_failed_run(sqlite_url: str, tmp_path: Path) -> None:
    calls: list[str] = []
    failing = {"clean"}
    flow = _chain(calls, failing, tmp_path / "results")
    flow.run_sync(history=sqlite_url, checkpointing=True)
    failing.clear()
    calls.clear()
    state = flow.run_sync(history=sqlite_url, checkpointing=True, restart_from="last")
    assert state.is_successful() and calls == ["clean", "report"]


async def test_a_map_restarts_only_its_failed_children_and_what_depends_on_them(
    history_url: str, tmp_path: Path
) -> None:
    ran: list[tuple[str, int]] = []
    broken = {17, 500, 999}

    @task
    def numbers() -> list[int]:
        ran.append(("numbers", -1))
        return list(range(1000))

    @task
    def square(x: int) -> int:
        ran.append(("square", x))
        if x in broken:
            raise ValueError(f"{x} is broken")
        return x * x

    @task
    def plus_one(x: int) -> int:
        ran.append(("plus_one", x))
        return x + 1

    @task
    def total(values: list[int]) -> int:
        ran.append(("total", -1))
        return sum(values)

    with Flow("big map", result=LocalResult(dir=str(tmp_path / "results"))) as flow:
        total(plus_one.map(square.map(numbers())))

    first = await flow.run(history=history_url, checkpointing=True)
    assert isinstance(first, Failed)
    broken.clear()
    ran.clear()
    state = await flow.run(history=history_url, checkpointing=True, restart_from="last")

    assert state.is_successful()
    assert sorted(ran) == sorted([("square", 17), ("square", 500), ("square", 999),
                                  ("plus_one", 289), ("plus_one", 250000),
                                  ("plus_one", 998001), ("total", -1)])
    assert _by_name(state)["total"].result == sum(x * x + 1 for x in range(1000))
    squares = _by_name(state)["square"]
    assert isinstance(squares, Mapped) and len(squares.map_states) == 1000
    detail = await history_api.get_run(2, url=history_url)
    counts: dict[str, int] = {}
    for tr in detail.task_runs:
        counts[tr.state] = counts.get(tr.state, 0) + 1
    assert counts == {"Success": 2002, "Mapped": 2}


async def test_a_needed_value_that_was_not_persisted_reruns_its_task_and_says_so(
    history_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    failing = {"use"}

    @task(checkpoint=False)
    def fetch() -> int:
        calls.append("fetch")
        return 20

    @task(checkpoint=False)
    def unrelated() -> int:
        calls.append("unrelated")
        return 0

    @task
    def use(x: int) -> int:
        calls.append("use")
        if "use" in failing:
            raise RuntimeError("broken")
        return x * 2

    with Flow("unpersisted", result=LocalResult(dir=str(tmp_path / "results"))) as flow:
        use(fetch())
        unrelated()

    await flow.run(history=history_url, checkpointing=True)
    failing.clear()
    calls.clear()
    state = await flow.run(history=history_url, checkpointing=True, restart_from=1)

    assert state.is_successful() and sorted(calls) == ["fetch", "use"]
    states = _by_name(state)
    assert states["use"].result == 40
    assert "was not persisted, and use-1 needs it" in (states["fetch"].message or "")
    assert (states["unrelated"].message or "").startswith("Kept from flow run 1")
    recorded = {tr.task_name: tr for tr in (await history_api.get_run(2, url=history_url)).task_runs}
    assert "was not persisted" in (recorded["fetch"].message or "")


async def test_a_value_is_read_only_when_a_task_that_runs_needs_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    failing = {"second"}

    @task
    def first() -> int:
        calls.append("first")
        return 1

    @task
    def second() -> int:
        calls.append("second")
        if "second" in failing:
            raise RuntimeError("broken")
        return 2

    @task
    def both(a: int, b: int) -> int:
        return a + b

    @task
    def alone() -> int:
        calls.append("alone")
        return 3

    @task
    def after_alone(x: int) -> int:
        return x

    with Flow("lazy", result=LocalResult(dir=str(tmp_path / "results"))) as flow:
        both(first(), second())
        after_alone(alone())

    await flow.run(history=sqlite_url, checkpointing=True)
    old = {tr.task_name: tr for tr in (await history_api.get_run(1, url=sqlite_url)).task_runs}
    # alone's file is gone: nothing that runs needs it, so the restart never reads it.
    Path(old["alone"].result_location or "").unlink()
    failing.clear()
    calls.clear()
    state = await flow.run(history=sqlite_url, checkpointing=True, restart_from=1)

    assert state.is_successful() and calls == ["second"]
    assert _by_name(state)["both"].result == 3
    assert _by_name(state)["alone"]._result.location == old["alone"].result_location


async def test_a_stored_value_that_cannot_be_read_reruns_its_task(
    sqlite_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    failing = {"clean"}
    flow = _chain(calls, failing, tmp_path / "results")
    await flow.run(history=sqlite_url, checkpointing=True)
    load = next(tr for tr in (await history_api.get_run(1, url=sqlite_url)).task_runs
                if tr.task_name == "load")
    Path(load.result_location or "").unlink()
    failing.clear()
    calls.clear()
    state = await flow.run(history=sqlite_url, checkpointing=True, restart_from=1)
    assert state.is_successful() and calls == ["load", "clean", "report"]
    assert "could not be read" in (_by_name(state)["load"].message or "")


async def test_parameters_default_to_the_old_runs_and_a_changed_one_reruns_its_dependents(
    history_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []

    @task
    def scaled(n: int) -> int:
        calls.append("scaled")
        return n * 10

    @task
    def fixed() -> int:
        calls.append("fixed")
        return 7

    @task
    def combine(a: int, b: int) -> int:
        calls.append("combine")
        return a + b

    with Flow("params", result=LocalResult(dir=str(tmp_path / "results"))) as flow:
        n = Parameter("n", required=True)
        combine(scaled(n), fixed())

    await flow.run({"n": 2}, history=history_url, checkpointing=True)
    calls.clear()
    same = await flow.run(history=history_url, checkpointing=True, restart_from=1)
    assert same.is_successful() and calls == []  # n=2 again, from the old run
    assert (_by_name(same)["combine"].message or "").startswith("Kept")

    changed = await flow.run({"n": 5}, history=history_url, checkpointing=True,
                             restart_from=1)
    assert changed.is_successful() and sorted(calls) == ["combine", "scaled"]
    assert _by_name(changed)["combine"].result == 57


async def test_a_changed_graph_is_refused_naming_what_changed(
    history_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    flow = _chain(calls, {"report"}, tmp_path / "results")
    await flow.run(history=history_url, checkpointing=True)

    @task(name="notify")
    def notify(x: int) -> None:
        calls.append("notify")

    changed = flow.copy()
    changed.add_edge(changed.get_tasks(name="clean")[0], notify, key="x")
    calls.clear()
    with pytest.raises(GraphChangedError, match=r"tasks added: notify-1") as caught:
        await changed.run(history=history_url, checkpointing=True, restart_from=1)
    assert caught.value.added == ["notify-1"] and caught.value.rewired == []
    assert calls == []
    assert len(await history_api.list_runs(url=history_url)) == 1

    rewired = flow.copy()
    load, report = rewired.get_tasks(name="load")[0], rewired.get_tasks(name="report")[0]
    rewired.add_edge(load, report)
    with pytest.raises(GraphChangedError, match=r"task report-1 rewired") as caught:
        await rewired.run(history=history_url, restart_from=1)
    assert caught.value.rewired == ["report-1"]


async def test_restarting_a_run_that_is_not_there_or_not_this_flows_is_refused(
    history_url: str, tmp_path: Path
) -> None:
    calls: list[str] = []
    flow = _chain(calls, set(), tmp_path / "results")
    with pytest.raises(RestartError, match=r"no failed or crashed run"):
        await flow.run(history=history_url, restart_from="last")
    await flow.run(history=history_url)
    with pytest.raises(RestartError, match=r"has no such run"):
        await flow.run(history=history_url, restart_from=42)
    with pytest.raises(RestartError, match=r"has no such run"):
        await flow.run(history=history_url, restart_from="no-such-flow-run-id")

    with Flow("another") as other:
        Parameter("start", default=1)
    with pytest.raises(RestartError, match=r"is a run of flow 'chain', not of 'another'"):
        await other.run(history=history_url, restart_from=1)
    assert calls == ["load", "clean", "report"]


async def test_restarting_a_run_still_going_is_refused(sqlite_url: str) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    @task
    async def wait() -> None:
        started.set()
        await release.wait()

    with Flow("slow") as flow:
        wait()

    running = asyncio.ensure_future(flow.run(history=sqlite_url))
    await started.wait()
    try:
        run_id = (await history_api.list_runs(url=sqlite_url))[0].id
        with pytest.raises(RestartError, match=r"is still running \(pid \d+"):
            await flow.run(history=sqlite_url, restart_from=run_id)
    finally:
        release.set()
        await running


async def test_a_run_with_no_recorded_task_runs_cannot_be_restarted(sqlite_url: str) -> None:
    calls: list[str] = []
    flow = _chain(calls, set(), Path("unused"))
    async with history_api.connect(sqlite_url) as db:
        pk = await db.create_flow_run(
            flow_run_id="lost", flow_name="chain", state="Failed", parameters="{}",
            started_at=1.0, task_count=4, graph=None,
        )
        await db.finish_flow_run(pk, state="Failed", message=None, ended_at=2.0, dag_svg=None)
    with pytest.raises(RestartError, match=r"has no task runs of flow run 1"):
        await flow.run(history=sqlite_url, restart_from="lost")
    assert calls == []


async def test_bad_restart_options_are_refused_before_anything_runs(sqlite_url: str) -> None:
    calls: list[str] = []
    flow = _chain(calls, set(), Path("unused"))
    with pytest.raises(RestartError, match=r"history=False turns it off"):
        await flow.run(history=False, restart_from=1)
    with pytest.raises(RestartError, match=r"pass only one of them"):
        await flow.run(history=sqlite_url, restart_from=1,
                       task_states={next(iter(flow.tasks)): Success()})
    with pytest.raises(RestartError, match=r"not 1\.5"):
        await flow.run(history=sqlite_url, restart_from=1.5)  # type: ignore[arg-type]
    assert calls == []


async def test_json_results_come_back_from_the_history_itself(
    history_url: str,
) -> None:
    calls: list[str] = []
    failing = {"double"}

    @task
    def make() -> dict[str, int]:
        calls.append("make")
        return {"a": 1}

    @task
    def double(d: dict[str, int]) -> dict[str, int]:
        calls.append("double")
        if "double" in failing:
            raise RuntimeError("broken")
        return {k: v * 2 for k, v in d.items()}

    with Flow("json", result=JSONResult()) as flow:
        double(make())
    await flow.run(history=history_url, checkpointing=True)
    failing.clear()
    calls.clear()
    state = await flow.run(history=history_url, checkpointing=True, restart_from="last")
    assert calls == ["double"] and _by_name(state)["double"].result == {"a": 2}
