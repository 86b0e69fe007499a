"""Checkpointing and targets through the engine, with LocalResult on real files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from asyncflow import Flow, Parameter, Task, task
from asyncflow.results import JSONResult, LocalResult, Result
from asyncflow.states import Cached, Failed, State, Success

from ..core.recorder import Recorder

pytestmark = pytest.mark.anyio


@task
def add(x: int, y: int = 1) -> int:
    return x + y


async def test_flow_level_result_persists_every_task(tmp_path: Path) -> None:
    with Flow("my handled flow!", result=LocalResult(dir=str(tmp_path))) as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)
    state = await flow.run()
    for t, value in ((first_result, 3), (second_result, 103)):
        location = state.result[t]._result.location
        assert Path(location).is_absolute() and Path(location).parent == tmp_path
        assert cloudpickle.loads(Path(location).read_bytes()) == value
        assert state.result[t]._result.value == value


async def test_task_level_result_and_task_subclass(tmp_path: Path) -> None:
    class AddTask(Task[int]):
        def run(self, x: int, y: int) -> int:
            return x + y

    a = AddTask(result=LocalResult(dir=str(tmp_path / "a")))
    with Flow("f") as flow:
        out = a(x=1, y=2)
        plain = add(out)
    state = await flow.run()
    assert Path(state.result[out]._result.location).parent == tmp_path / "a"
    assert state.result[plain]._result.location is None


async def test_templated_location_with_inputs_context_and_parameters(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=str(tmp_path), location="{date:%A}/{task_name}.prefect"))
    def downstream_task(x: list[int]) -> list[int]:
        return [i * 10 for i in x]

    @task(result=LocalResult(dir=str(tmp_path), location="initial_data.prefect"))
    def root_task() -> list[int]:
        return [1, 2, 3]

    @task(result=LocalResult(dir=str(tmp_path), location="{flow_name}/{who}-{x}.bin"))
    def with_input(x: int, who: str) -> int:
        return x

    with Flow("local-results") as flow:
        d = downstream_task(root_task)
        w = with_input(5, Parameter("who"))
    state = await flow.run(parameters={"who": "param"})
    day = state.result[d]._result.location.split("/")[-2]
    assert (tmp_path / day / "downstream_task.prefect").is_file()
    assert (tmp_path / "initial_data.prefect").is_file()
    assert Path(state.result[w]._result.location) == tmp_path / "local-results" / "param-5.bin"


async def test_missing_template_key_fails_the_task_listing_keys(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=str(tmp_path), location="{nope}.bin"))
    def t() -> int:
        return 1

    with Flow("f") as flow:
        node = t()
    state = await flow.run()
    final = state.result[node]
    assert isinstance(final, Failed)
    assert "'t'" in (final.message or "") and "LocalResult" in (final.message or "")
    assert "nope" in (final.message or "") and "task_name" in (final.message or "")


async def test_input_escaping_the_directory_is_rejected(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=str(tmp_path / "inside"), location="{name}.bin"))
    def t(name: str) -> int:
        return 1

    with Flow("f") as flow:
        node = t("../outside")
    state = await flow.run()
    assert isinstance(state.result[node], Failed)
    assert not (tmp_path / "outside.bin").exists()


async def test_checkpoint_switches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    @task(checkpoint=False)
    def not_me() -> int:
        return 1

    with Flow("f", result=LocalResult(dir=str(tmp_path))) as flow:
        off = not_me()
        on = add(1)
    state = await flow.run()
    assert state.result[off]._result.location is None
    assert state.result[on]._result.location is not None

    monkeypatch.setenv("ASYNCFLOW__FLOWS__CHECKPOINTING", "false")
    state = await flow.run()
    assert state.result[on]._result.location is None
    state = await flow.run(checkpointing=True)
    assert state.result[on]._result.location is not None
    monkeypatch.delenv("ASYNCFLOW__FLOWS__CHECKPOINTING")
    state = await flow.run(checkpointing=False)
    assert state.result[on]._result.location is None


async def test_none_is_persisted(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=str(tmp_path)))
    def nothing() -> None:
        return None

    with Flow("f") as flow:
        n = nothing()
    state = await flow.run()
    location = state.result[n]._result.location
    assert location is not None and cloudpickle.loads(Path(location).read_bytes()) is None


async def test_success_only_after_the_write_and_write_failure_fails_and_retries(
    tmp_path: Path,
) -> None:
    rec = Recorder()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a directory is needed")
    attempts = {"n": 0}

    @task(result=LocalResult(dir=str(tmp_path), location="blocked/{task_run_count}.bin"),
          max_retries=1, retry_delay=0, state_handlers=[rec])
    def produce() -> int:
        attempts["n"] += 1
        return 7

    with Flow("f") as flow:
        p = produce()
    state = await flow.run()
    final = state.result[p]
    assert isinstance(final, Failed)
    assert attempts["n"] == 2
    assert "produce" in (final.message or "") and "LocalResult" in (final.message or "")
    assert "blocked" in (final.message or "")
    assert rec.for_("produce") == [
        ("Pending", "Running"), ("Running", "Failed"), ("Failed", "Retrying"),
        ("Retrying", "Running"), ("Running", "Failed"),
    ]
    assert blocker.read_text() == "a file where a directory is needed"


async def test_json_result_location_is_the_value() -> None:
    with Flow("my handled flow!", result=JSONResult()) as flow:
        first_result = add(1, y=2)
    state = await flow.run()
    assert state.result[first_result]._result.value == 3
    assert state.result[first_result]._result.location == "3"


async def test_target_skips_work_when_the_result_exists(tmp_path: Path) -> None:
    rec = Recorder()
    calls: list[int] = []

    @task(result=LocalResult(dir=str(tmp_path)), target="{task_name}/{x}.bin",
          state_handlers=[rec])
    def slow_square(x: int) -> int:
        calls.append(x)
        return x * x

    with Flow("f") as flow:
        s = slow_square(4)
    first = await flow.run()
    second = await flow.run()
    assert calls == [4]
    assert (tmp_path / "slow_square" / "4.bin").is_file()
    assert isinstance(second.result[s], Cached) and second.result[s].result == 16
    assert "Result found at task target" in (second.result[s].message or "")
    assert rec.for_("slow_square")[-1] == ("Pending", "Cached")
    assert isinstance(first.result[s], Success)


async def test_mapped_targets_resume_after_a_crash(tmp_path: Path) -> None:
    calls: list[int] = []
    crash = {"on": 2}

    @task(result=LocalResult(dir=str(tmp_path)), target="{task_name}/{map_index}.bin")
    def work(x: int) -> int:
        calls.append(x)
        if x == crash["on"]:
            raise RuntimeError("crash")
        return x * 10

    with Flow("f") as flow:
        w = work.map([0, 1, 2, 3])
    first = await flow.run()
    assert not first.is_successful()
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["0.bin", "1.bin", "3.bin"]
    crash["on"] = -1
    calls.clear()
    second = await flow.run()
    assert second.result[w].result == [0, 10, 20, 30]
    assert calls == [2]  # only the missing element ran again
    kinds = [type(s) for s in second.result[w].map_states]
    assert kinds == [Cached, Cached, Success, Cached]


async def test_target_with_a_none_result_is_not_rerun(tmp_path: Path) -> None:
    calls = {"n": 0}

    @task(result=LocalResult(dir=str(tmp_path)), target="none.bin")
    def returns_none() -> None:
        calls["n"] += 1

    with Flow("f") as flow:
        returns_none()
    await flow.run()
    await flow.run()
    assert calls["n"] == 1


def test_target_without_a_persisting_result_is_a_build_error() -> None:
    from asyncflow import FlowDefinitionError

    with pytest.raises(FlowDefinitionError, match="target= needs a persisting result"):
        Task(target="x.bin", result=Result())


async def test_handlers_see_the_location_on_success(tmp_path: Path) -> None:
    seen: list[Any] = []

    def watch(obj: Any, old: State, new: State) -> None:
        if new.is_successful():
            seen.append(new._result.location)

    @task(result=LocalResult(dir=str(tmp_path)), state_handlers=[watch])
    def t() -> int:
        return 1

    with Flow("f") as flow:
        t()
    await flow.run()
    assert len(seen) == 1 and Path(seen[0]).is_file()


def test_target_without_any_result_fails_before_the_run() -> None:
    from asyncflow import FlowDefinitionError

    ran: list[int] = []

    @task(target="x.bin")
    def t() -> None:
        ran.append(1)

    with Flow("f") as flow:
        t()
    with pytest.raises(FlowDefinitionError, match="no persisting result"):
        flow.run_sync()
    assert ran == []
