"""Flows run on real Dask clusters: sync and async bodies, maps, retries, signals, timeouts."""

from __future__ import annotations

import asyncio
import importlib
import os
import threading
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest
from distributed import LocalCluster

from asyncflow import Flow, FlowDefinitionError, context, signals, task
from asyncflow._dask import DaskExecutorError, RemoteTaskError, RemoteTraceback
from asyncflow.executors import DaskExecutor
from asyncflow.states import Failed, Skipped, Success, TimedOut
from tests.dask.helpers import child_state, children, dd, worker_address, worker_pids

pytestmark = pytest.mark.anyio


@task
def sync_double(x: int) -> tuple[int, str, int]:
    return 2 * x, worker_address(), os.getpid()


@task
async def async_add(pair: tuple[int, str, int], y: int) -> tuple[int, str, int]:
    await asyncio.sleep(0)
    return pair[0] + y, worker_address(), os.getpid()


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


async def test_sync_and_async_bodies_run_on_workers(address: str) -> None:
    with Flow("bodies") as flow:
        first = sync_double(3)
        second = async_add(first, 4)
    state = await flow.run(executor=DaskExecutor(address))
    assert state.is_successful()
    value1, worker1, _ = child_state(state, first).result
    value2, worker2, _ = child_state(state, second).result
    assert (value1, value2) == (6, 10)
    workers = set(await worker_pids(address))
    assert {worker1, worker2} <= workers


async def test_executor_set_on_the_flow(address: str) -> None:
    with Flow("on the flow", executor=DaskExecutor(address)) as flow:
        first = sync_double(2)
    state = await flow.run()
    assert child_state(state, first).result[1] in set(await worker_pids(address))


async def test_tasks_defined_in_a_function_travel_by_value(address: str) -> None:
    offset = 100

    @task
    def add_offset(x: int) -> int:
        return x + offset

    with Flow("closure") as flow:
        added = add_offset.map([1, 2, 3])
    state = await flow.run(executor=DaskExecutor(address))
    assert [s.result for s in children(state, added)] == [101, 102, 103]


async def test_process_workers_are_other_processes(process_cluster: LocalCluster) -> None:
    with Flow("pids") as flow:
        first = sync_double(1)
        second = async_add(first, 1)
    state = await flow.run(executor=DaskExecutor(process_cluster.scheduler_address))
    pids = {child_state(state, first).result[2], child_state(state, second).result[2]}
    assert os.getpid() not in pids


async def test_mapped_flow_of_1000_tasks(process_cluster: LocalCluster) -> None:
    with Flow("map") as flow:
        plus_one = inc.map(list(range(1000)))
        result = total(plus_one)
    state = await flow.run(executor=DaskExecutor(process_cluster.scheduler_address))
    assert state.is_successful()
    mapped = children(state, plus_one)
    assert len(mapped) == 1000
    assert all(type(s) is Success for s in mapped)
    assert [s.map_index for s in mapped] == list(range(1000))
    assert child_state(state, result).result == sum(range(1, 1001))


@task(max_retries=2, retry_delay=0)
def flaky(x: int) -> int:
    if context.task_run_count < 3:
        raise ValueError(f"attempt {context.task_run_count} failed")
    return x * 10


@task(max_retries=1, retry_delay=0)
async def always_fails() -> None:
    raise RuntimeError("no luck")


async def test_retries_are_new_submissions(address: str) -> None:
    with Flow("retries") as flow:
        ok = flaky(4)
        bad = always_fails()
    state = await flow.run(executor=DaskExecutor(address))
    ok_state = child_state(state, ok)
    assert type(ok_state) is Success
    assert ok_state.result == 40
    assert ok_state.run_count == 3
    bad_state = child_state(state, bad)
    assert type(bad_state) is Failed
    assert bad_state.run_count == 2
    assert isinstance(bad_state.result, RuntimeError)
    assert bad_state.result.args == ("no luck",)


@task
def skip_me() -> None:
    raise signals.SKIP("nothing to do")


@task
async def fail_me() -> None:
    raise signals.FAIL("not good")


@task
def loop_three() -> int:
    count = (context.task_loop_result or 0) + 1
    if count < 3:
        raise signals.LOOP(result=count)
    return count


@task
def end_run() -> None:
    raise signals.ENDRUN(Success("ended on purpose", result=7))


async def test_signals_come_back_as_states(address: str) -> None:
    with Flow("signals") as flow:
        skipped = skip_me()
        failed = fail_me()
        looped = loop_three()
        ended = end_run()
    state = await flow.run(executor=DaskExecutor(address))
    assert type(child_state(state, skipped)) is Skipped
    assert child_state(state, skipped).message == "nothing to do"
    assert type(child_state(state, failed)) is Failed
    assert isinstance(child_state(state, failed).result, signals.FAIL)
    assert child_state(state, looped).result == 3
    assert type(child_state(state, ended)) is Success
    assert child_state(state, ended).message == "ended on purpose"
    assert child_state(state, ended).result == 7


@task(timeout=0.2)
async def slow_async() -> None:
    await asyncio.Event().wait()


_never = threading.Event()


@task(timeout=0.2)
def slow_sync() -> None:
    _never.wait(30)


async def test_async_timeout_cancels_the_body(address: str) -> None:
    with Flow("timeout") as flow:
        slow = slow_async()
    state = await flow.run(executor=DaskExecutor(address))
    assert type(child_state(state, slow)) is TimedOut
    assert child_state(state, slow).message == "Task timed out after 0.2s."


async def test_sync_timeout_abandons_the_thread_with_a_warning(address: str) -> None:
    with Flow("timeout") as flow:
        slow = slow_sync()
    with pytest.warns(RuntimeWarning, match="abandoned"):
        state = await flow.run(executor=DaskExecutor(address))
    assert type(child_state(state, slow)) is TimedOut


class UnpicklableError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


@task
def raises_unpicklable() -> None:
    raise UnpicklableError("the lock stays here")


async def test_unpicklable_exception_is_a_clear_error(address: str) -> None:
    with Flow("unpicklable") as flow:
        bad = raises_unpicklable()
    state = await flow.run(executor=DaskExecutor(address))
    failed = child_state(state, bad)
    assert type(failed) is Failed
    error = failed.result
    assert isinstance(error, RemoteTaskError)
    assert error.type_name.endswith("test_run.UnpicklableError")
    assert error.message == "the lock stays here"
    assert "raises_unpicklable" in error.traceback_text
    assert 'raise UnpicklableError("the lock stays here")' in error.traceback_text
    assert "cannot be pickled" in str(error)
    assert isinstance(error.__cause__, RemoteTraceback)


@task
def raises_value_error() -> None:
    raise ValueError("bad value")


async def test_remote_traceback_is_attached(address: str) -> None:
    with Flow("traceback") as flow:
        bad = raises_value_error()
    state = await flow.run(executor=DaskExecutor(address))
    error = child_state(state, bad).result
    assert type(error) is ValueError
    cause = error.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "raises_value_error" in cause.traceback_text


class RecordingCluster(LocalCluster):
    made: ClassVar[list[LocalCluster]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        RecordingCluster.made.append(self)


async def test_temporary_cluster_lives_for_one_run() -> None:
    RecordingCluster.made.clear()
    executor = DaskExecutor(
        cluster_class=RecordingCluster,
        cluster_kwargs={"processes": False, "n_workers": 1, "threads_per_worker": 1},
    )
    with Flow("temporary") as flow:
        first = sync_double(5)
        async_add(first, 1)
    state = await flow.run(executor=executor)
    assert state.is_successful()
    assert len(RecordingCluster.made) == 1
    assert RecordingCluster.made[0].status == dd.core.Status.closed


async def test_one_executor_serves_concurrent_runs(address: str) -> None:
    executor = DaskExecutor(address)
    with Flow("concurrent") as flow:
        result = total(inc.map(list(range(20))))
    states = await asyncio.gather(flow.run(executor=executor), flow.run(executor=executor))
    assert [child_state(s, result).result for s in states] == [210, 210]
    assert executor._sessions == {}


@task(tags=["dask-resource:GPU=1"])
def needs_gpu(x: int) -> str:
    return worker_address()


async def test_resource_tags_pick_workers_with_the_resource(thread_cluster: LocalCluster) -> None:
    address = thread_cluster.scheduler_address
    async with dd.Worker(address, nthreads=1, resources={"GPU": 1},
                                  host="127.0.0.1") as gpu_worker:
        with Flow("gpu") as flow:
            placed = needs_gpu.map(list(range(6)))
        state = await flow.run(executor=DaskExecutor(address))
    assert {s.result for s in children(state, placed)} == {gpu_worker.address}


@task(tags=["dask-resource:GPU"])
def bad_tag() -> None:
    return None


async def test_malformed_resource_tag_is_refused_before_running(address: str) -> None:
    with Flow("bad tag") as flow:
        bad_tag()
    with pytest.raises(FlowDefinitionError, match="dask-resource:NAME=AMOUNT"):
        await flow.run(executor=DaskExecutor(address))


async def test_unreachable_scheduler_is_a_clear_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    executor = DaskExecutor(f"tcp://127.0.0.1:{port}", client_kwargs={"timeout": "1s"})
    with Flow("nowhere") as flow:
        inc(1)
    with pytest.raises(DaskExecutorError, match="could not connect to the Dask scheduler"):
        await flow.run(executor=executor)


def test_address_and_cluster_options_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="not both"):
        DaskExecutor("tcp://127.0.0.1:8786", cluster_kwargs={"n_workers": 1})


@task
def returns_a_lock() -> Any:
    return threading.Lock()


async def test_unpicklable_return_value_is_a_clear_error(address: str) -> None:
    with Flow("lock") as flow:
        bad = returns_a_lock()
    state = await flow.run(executor=DaskExecutor(address))
    error = child_state(state, bad).result
    assert isinstance(error, DaskExecutorError)
    assert "its result could not be sent back" in str(error)
    assert "must return a picklable value" in str(error)


async def test_a_module_the_workers_cannot_import_is_named(
    process_cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"only_in_the_driver_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(
        "from asyncflow import task\n\n@task\ndef here() -> int:\n    return 1\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    with Flow("import") as flow:
        here = module.here()
    state = await flow.run(executor=DaskExecutor(process_cluster.scheduler_address))
    error = child_state(state, here).result
    assert isinstance(error, DaskExecutorError)
    assert f"No module named '{name}'" in str(error)
    assert "install that code where the workers run" in str(error)
