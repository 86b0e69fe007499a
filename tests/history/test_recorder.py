"""Recording runs: what a run leaves in the history, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from asyncflow import Flow, Parameter, context, history as history_api, task
from asyncflow._core._exceptions import ConfigError
from asyncflow.history import Recorder, RunNotFoundError, TaskRunRecord
from asyncflow.results import JSONResult, LocalResult

pytestmark = pytest.mark.anyio


@task
async def extract(n: int) -> list[int]:
    return list(range(n))


@task
async def total(values: list[int]) -> int:
    return sum(values)


@task
async def first() -> int:
    return 1


@task
async def later(x: int) -> int:
    return x


def _etl() -> Flow:
    with Flow("etl") as flow:
        n = Parameter("n", default=3)
        total(extract(n))
    return flow


def _by_name(task_runs: tuple[TaskRunRecord, ...]) -> dict[str, TaskRunRecord]:
    return {tr.full_name: tr for tr in task_runs}


async def test_a_run_is_recorded_with_its_task_runs_and_transitions(history_url: str) -> None:
    state = await _etl().run(parameters={"n": 4}, history=history_url)
    assert state.is_successful()

    runs = await history_api.list_runs(url=history_url)
    assert [(r.flow_name, r.state) for r in runs] == [("etl", "Success")]
    run = await history_api.get_run(runs[0].id, url=history_url, transitions=True)
    assert run.run.parameters == {"n": 4}
    assert run.run.task_count == 3
    assert run.run.ended_at is not None and run.run.ended_at >= run.run.started_at
    assert [t.new_state for t in run.transitions] == ["Running", "Success"]

    tasks = _by_name(run.task_runs)
    assert set(tasks) == {"n", "extract", "total"}
    for tr in tasks.values():
        assert tr.state == "Success"
        assert [(t.old_state, t.new_state) for t in tr.transitions] == [
            ("Pending", "Running"), ("Running", "Success")]
        assert tr.duration is not None and tr.retries == 0
    times = [t.at for t in tasks["total"].transitions]
    assert times == sorted(times)
    assert tasks["extract"].transitions[0].at >= tasks["n"].transitions[-1].at


async def test_the_engine_run_id_finds_the_run(history_url: str) -> None:
    await _etl().run(history=history_url, context={"flow_run_id": "nightly-42"})
    run = await history_api.get_run("nightly-42", url=history_url)
    assert run.run.flow_run_id == "nightly-42"
    with pytest.raises(RunNotFoundError, match="no flow run 'nope'"):
        await history_api.get_run("nope", url=history_url)


async def test_retries_and_errors_are_recorded(history_url: str) -> None:
    attempts = []

    @task(max_retries=1, retry_delay=0)
    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("upstream reset the connection")
        return "ok"

    @task
    async def broken() -> None:
        raise ValueError("no such column: price")

    with Flow("flaky") as flow:
        flaky()
        broken()
    state = await flow.run(history=history_url)
    assert state.is_failed()

    run = await history_api.get_run(1, url=history_url, transitions=True)
    assert run.run.state == "Failed"
    tasks = _by_name(run.task_runs)
    flaky_run = tasks["flaky"]
    assert flaky_run.state == "Success"
    assert flaky_run.run_count == 2 and flaky_run.retries == 1
    assert [t.new_state for t in flaky_run.transitions] == [
        "Running", "Failed", "Retrying", "Running", "Success"]
    failed = flaky_run.transitions[1]
    assert failed.error is not None and "ConnectionError: upstream reset" in failed.error
    assert "Traceback" in failed.error
    broken_run = tasks["broken"]
    assert broken_run.state == "Failed"
    assert broken_run.error is not None
    assert broken_run.error.splitlines()[-1] == "ValueError: no such column: price"


async def test_mapped_children_are_task_runs_of_their_own(history_url: str) -> None:
    with Flow("mapped") as flow:
        total.map([[1], [2, 3], [4, 5, 6]])
    await flow.run(history=history_url)

    run = await history_api.get_run(1, url=history_url)
    assert [(tr.full_name, tr.map_index, tr.state) for tr in run.task_runs] == [
        ("total", None, "Mapped"),
        ("total[0]", 0, "Success"), ("total[1]", 1, "Success"), ("total[2]", 2, "Success")]
    child = await history_api.get_task_run(1, run.task_runs[2].task, 1, url=history_url)
    assert [t.map_index for t in child.transitions] == [1, 1]


async def test_locations_and_json_values_are_recorded_never_other_values(
    history_url: str, tmp_path: Path
) -> None:
    secret = "pickled-marker-3f9a"

    @task(result=LocalResult(dir=tmp_path / "results"))
    async def pickled() -> dict[str, str]:
        return {"payload": secret}

    @task(result=JSONResult())
    async def as_json() -> dict[str, Any]:
        return {"rows": 3, "ok": True}

    with Flow("results") as flow:
        pickled()
        as_json()
    await flow.run(history=history_url, checkpointing=True)

    run = await history_api.get_run(1, url=history_url, transitions=True)
    tasks = _by_name(run.task_runs)
    location = tasks["pickled"].result_location
    assert location is not None and Path(location).parent == tmp_path / "results"
    assert tasks["pickled"].result_json is None
    assert tasks["as_json"].value == {"rows": 3, "ok": True}
    assert tasks["as_json"].result_location is None
    everything = repr(run)
    assert secret not in everything
    if history_url.startswith("sqlite"):
        db = Path(history_url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        assert secret.encode() not in stored


async def test_the_task_run_id_is_recorded_once_the_engine_made_one(history_url: str) -> None:
    seen = []

    @task
    async def uses_its_id() -> None:
        seen.append(context.task_run_id)

    @task
    async def does_not() -> None:
        return None

    with Flow("ids") as flow:
        uses_its_id()
        does_not()
    await flow.run(history=history_url)
    tasks = _by_name((await history_api.get_run(1, url=history_url)).task_runs)
    assert tasks["uses_its_id"].task_run_id == seen[0]
    assert tasks["does_not"].task_run_id is None


async def test_everything_is_in_the_database_when_run_returns(sqlite_url: str) -> None:
    import sqlite3

    with Flow("wide") as flow:
        for i in range(300):
            total([i])
    await flow.run(history=Recorder(sqlite_url, flush_interval=60, batch_size=10**6))
    db = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        count = db.execute("SELECT SUM(transition_count) FROM transition_batches").fetchone()[0]
        ended = db.execute("SELECT ended_at, state FROM flow_runs").fetchone()
    finally:
        db.close()
    assert count == 300 * 2 + 2
    assert ended[0] is not None and ended[1] == "Success"


async def test_transitions_are_written_while_the_run_goes_on(history_url: str) -> None:
    recorder = Recorder(history_url, flush_interval=60)
    release = anyio.Event()
    seen: list[str] = []

    @task
    async def waits(x: int) -> int:
        await recorder.flush()
        async with history_api.connect(history_url) as db:
            run = (await db.list_runs())[0]
            seen.extend(f"{tr.task_name}:{tr.state}" for tr in await db.task_runs(run.id))
            seen.append(f"flow:{run.state}")
        release.set()
        return x

    with Flow("live") as flow:
        waits(first())
    await flow.run(history=recorder)
    assert release.is_set()
    assert seen == ["first:Success", "waits:Running", "flow:Running"]


async def test_a_store_reading_a_run_twice_sees_what_came_in_between(
    history_url: str,
) -> None:
    recorder = Recorder(history_url, flush_interval=60)

    async with history_api.connect(history_url) as db:
        mid_run: list[str] = []

        @task
        async def waits(x: int) -> int:
            await recorder.flush()
            run = (await db.list_runs())[0]
            mid_run.extend(f"{tr.task_name}:{tr.state}" for tr in await db.task_runs(run.id))
            mid_run.append(str(await db.state_counts(run.id)))
            return x

        with Flow("live") as flow:
            later(waits(first()))
        await flow.run(history=recorder)
        run = (await db.list_runs())[0]
        after = [f"{tr.task_name}:{tr.state}" for tr in await db.task_runs(run.id)]
        counts = await db.state_counts(run.id)
        timeline = await db.get_task_run(run.id, 1)

    assert mid_run[-1] == "{'Running': 1, 'Success': 1}"
    assert mid_run[:-1] == ["first:Success", "waits:Running"]
    assert after == ["first:Success", "waits:Success", "later:Success"]
    assert counts == {"Success": 3}
    assert [(t.old_state, t.new_state) for t in timeline.transitions] == [
        ("Pending", "Running"), ("Running", "Success")]


async def test_one_recorder_records_runs_at_the_same_time(history_url: str) -> None:
    recorder = Recorder(history_url)
    both_running = anyio.Event()
    arrived = []

    @task
    async def meet() -> None:
        arrived.append(1)
        if len(arrived) == 2:
            both_running.set()
        await both_running.wait()

    with Flow("a") as flow_a:
        meet()
    with Flow("b") as flow_b:
        meet()
        meet()  # a second task: the two runs differ in shape
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: flow_a.run(history=recorder))
        tg.start_soon(lambda: flow_b.run(history=recorder))

    runs = {r.flow_name: r for r in await history_api.list_runs(url=history_url)}
    assert {name: r.state for name, r in runs.items()} == {"a": "Success", "b": "Success"}
    detail_a = await history_api.get_run(runs["a"].id, url=history_url, transitions=True)
    detail_b = await history_api.get_run(runs["b"].id, url=history_url, transitions=True)
    assert len(detail_a.task_runs) == 1 and len(detail_b.task_runs) == 2
    assert all(len(tr.transitions) == 2 for tr in detail_a.task_runs + detail_b.task_runs)


async def test_a_cancelled_run_is_recorded_as_cancelled(history_url: str) -> None:
    started = anyio.Event()

    @task
    async def forever() -> None:
        started.set()
        await anyio.sleep_forever()

    with Flow("stuck") as flow:
        forever()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: flow.run(history=history_url))
        await started.wait()
        tg.cancel_scope.cancel()

    run = await history_api.get_run(1, url=history_url)
    assert run.run.state == "Cancelled" and run.run.ended_at is not None
    assert [tr.state for tr in run.task_runs] == ["Cancelled"]


async def test_the_history_url_setting_switches_recording_on(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__HISTORY__URL", sqlite_url)
    await _etl().run()
    await _etl().run(history=False)
    assert len(await history_api.list_runs(url=sqlite_url)) == 1


async def test_history_true_records_to_the_default_file() -> None:
    await _etl().run(history=True)
    assert (Path.home() / ".asyncflow" / "history.db").exists()
    runs = await history_api.list_runs()
    assert [r.flow_name for r in runs] == ["etl"]


async def test_a_database_that_cannot_be_reached_does_not_fail_the_run(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.ERROR, logger="asyncflow.history"):
        state = await _etl().run(history=f"sqlite:///{blocker}/history.db")
    assert state.is_successful()
    assert "runs are not recorded" in caplog.text
    assert str(blocker) in caplog.text


async def test_an_unsupported_url_is_refused_before_the_run() -> None:
    with pytest.raises(ConfigError, match=re.escape("sqlite:///path/history.db")):
        await _etl().run(history="mysql://db/history")
    with pytest.raises(ConfigError, match="names no file"):
        await _etl().run(history="sqlite:///")


async def test_a_password_in_a_url_is_never_shown() -> None:
    recorder = Recorder("postgresql://etl:hunter2@db.invalid/history")
    assert "hunter2" not in repr(recorder)
    assert "hunter2" not in repr(recorder.store)


async def test_the_dag_picture_is_recorded_coloured_by_state(history_url: str) -> None:
    await _etl().run(history=history_url)
    run = await history_api.get_run(1, url=history_url)
    assert run.dag_svg is not None and run.dag_svg.startswith("<svg")
    assert 'data-slug="extract-1"' in run.dag_svg
    assert 'data-state="Success"' in run.dag_svg


async def test_large_flows_are_recorded_without_a_picture(sqlite_url: str) -> None:
    with Flow("wide") as flow:
        for i in range(5):
            total([i])
    await flow.run(history=Recorder(sqlite_url, draw_max_tasks=4))
    run = await history_api.get_run(1, url=sqlite_url)
    assert run.dag_svg is None and len(run.task_runs) == 5


async def test_the_task_graph_is_recorded(history_url: str) -> None:
    await _etl().run(history=history_url)
    graph = (await history_api.get_run(1, url=history_url)).graph
    slugs = {slug for slug, _, _ in graph["tasks"]}
    assert {"extract-1", "total-1"} <= slugs and len(slugs) == 3
    assert ["extract-1", "total-1", "values", False] in graph["edges"]
    assert len(graph["edges"]) == 2
