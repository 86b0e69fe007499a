"""Whole flows checkpointing to S3 (moto) and GCS (the emulator): the seeds' patterns."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from asyncflow import Flow, task
from asyncflow._results._base import Result
from asyncflow._results._gcs import GCSResult
from asyncflow._results._s3 import S3Result
from asyncflow.states import State
from tests.servers.gcs_emulator import GCSEmulator
from tests.servers.moto_s3 import MotoS3Server
from tests.storage.conftest import BUCKET, FAST_BACKOFF

DEFAULT_KEY = re.compile(r"^\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.asyncflow_result$")


@dataclass
class Store:
    """One backend under test: how to make its Result and list what it holds."""

    name: str
    make: Callable[..., Result]
    keys: Callable[[], list[str]]


@pytest.fixture(params=["s3", "gcs"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "s3":
        moto: MotoS3Server = request.getfixturevalue("moto")
        return Store("s3", request.getfixturevalue("make_s3"), lambda: sorted(moto.keys(BUCKET)))
    gcs: GCSEmulator = request.getfixturevalue("gcs")
    return Store("gcs", request.getfixturevalue("make_gcs"), lambda: gcs.keys(BUCKET))


def client_events(caplog: pytest.LogCaptureFixture, verb: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(verb)]


@task
def add(x: int, y: int = 1) -> int:
    return x + y


@pytest.mark.anyio
async def test_a_flow_level_result_checkpoints_every_task(store: Store) -> None:
    with Flow("my handled flow!", result=store.make()) as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)

    state = await flow.run()

    assert state.is_successful()
    first = state.result[first_result]._result.location
    second = state.result[second_result]._result.location
    assert DEFAULT_KEY.match(first) and DEFAULT_KEY.match(second)
    assert store.keys() == sorted([first, second])  # the seeds' `gsutil ls -r`
    reader = store.make()
    assert (await reader.read(first)).value == 3
    assert (await reader.read(second)).value == 103


@pytest.mark.anyio
async def test_a_task_level_result_uses_its_templated_location(store: Store) -> None:
    @task(result=store.make(location="{flow_name}/{task_name}.prefect"))
    def root_task() -> list[int]:
        return [1, 2, 3]

    @task(result=store.make(location="{flow_name}/{date:%Y}/{task_name}.prefect"))
    def downstream_task(x: list[int]) -> list[int]:
        return [i * 10 for i in x]

    with Flow("results") as flow:
        downstream_task(root_task)

    state = await flow.run()

    assert state.is_successful()
    keys = store.keys()
    assert "results/root_task.prefect" in keys and len(keys) == 2
    downstream_key = next(k for k in keys if k.endswith("/downstream_task.prefect"))
    assert (await store.make().read(downstream_key)).value == [10, 20, 30]


@pytest.mark.anyio
async def test_targets_skip_work_when_the_objects_exist(store: Store) -> None:
    calls: list[int] = []

    @task(result=store.make(), target="{task_name}/{map_index}.bin")
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    with Flow("targets") as flow:
        squares = square.map([1, 2, 3])

    first = await flow.run()
    second = await flow.run()

    assert store.keys() == ["square/0.bin", "square/1.bin", "square/2.bin"]
    assert sorted(calls) == [1, 2, 3]  # the second run ran nothing
    assert first.result[squares].result == second.result[squares].result == [1, 4, 9]
    children: list[State] = second.result[squares].map_states
    assert all(child.is_cached() for child in children)
    assert "Result found at task target square/1.bin" in (children[1].message or "")


@pytest.mark.anyio
async def test_two_hundred_mapped_tasks_write_one_object_each_through_one_client(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")

    @task(result=store.make(location="mapped/{map_index:03d}.bin"))
    async def double(x: int) -> int:
        return 2 * x

    with Flow("fan-out") as flow:
        doubled = double.map(list(range(200)))

    state = await flow.run()

    assert state.is_successful()
    assert state.result[doubled].result == [2 * x for x in range(200)]
    assert store.keys() == [f"mapped/{i:03d}.bin" for i in range(200)]
    assert len(client_events(caplog, "opening a client")) == 1
    assert len(client_events(caplog, "closing the client")) == 1  # closed when the run ended


@pytest.mark.anyio
async def test_a_result_read_inside_a_task_shares_the_run_client(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")
    saved = await store.make(location="model.pickle").write({"weights": [1, 2]})
    caplog.clear()

    @task(result=store.make())
    async def predict() -> int:
        model = (await store.make().read("model.pickle")).value  # the seeds' S3Result.read
        return sum(model["weights"])

    with Flow("predict") as flow:
        prediction = predict()

    state = await flow.run()

    assert saved.location == "model.pickle"
    assert state.result[prediction].result == 3
    assert len(client_events(caplog, "opening a client")) == 1


@pytest.mark.anyio
async def test_a_cancelled_run_closes_its_clients(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")
    never = anyio.Event()

    @task(result=store.make())
    async def early() -> int:
        return 1

    @task
    async def stuck(x: int) -> None:
        await never.wait()

    with Flow("cancelled") as flow:
        first = early()
        stuck(first)

    with anyio.CancelScope() as scope:
        def cancel_once_written(obj: Any, old: State, new: State) -> None:
            if obj is first and new.is_successful():
                scope.cancel()

        await flow.run(observers=[cancel_once_written])

    assert scope.cancelled_caught
    assert len(store.keys()) == 1
    assert len(client_events(caplog, "opening a client")) == 1
    assert len(client_events(caplog, "closing the client")) == 1


# ---- the server goes away mid-run and comes back ----------------------------------------
class Outage:
    """A server of one backend, owned by one test, that can be stopped and restarted."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "s3":
            self.moto = MotoS3Server().start()
            self.moto.create_bucket(BUCKET)
            self.port = self.moto.port
            self.options = self.moto.client_options()
        else:
            self.emulator = GCSEmulator().start()
            self.emulator.create_bucket(BUCKET)

    def result(self, **options: Any) -> Result:
        options.setdefault("retry_backoff", FAST_BACKOFF)
        if self.kind == "s3":
            return S3Result(BUCKET, client_options=self.options, **options)
        return GCSResult(BUCKET, api_root=self.emulator.url, **options)

    def stop(self) -> None:
        if self.kind == "s3":
            self.moto.stop()
        else:
            self.emulator.stop()

    def start_again(self) -> None:
        """The same data, on the same port (moto keeps its state in the process)."""
        if self.kind == "s3":
            self.moto = MotoS3Server(port=self.port).start()
        else:
            self.emulator.start()

    def close(self) -> None:
        self.stop()


@pytest.fixture(params=["s3", "gcs"])
def outage(request: pytest.FixtureRequest) -> Iterator[Outage]:
    if request.param == "s3":
        request.getfixturevalue("moto")  # emptied moto state, auth off
    server = Outage(request.param)
    try:
        yield server
    finally:
        server.close()


@pytest.mark.anyio
async def test_with_task_retries_the_flow_recovers_when_the_server_returns(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncflow.results")
    result = outage.result(retries=2)

    def server_goes_away_then_returns(obj: Any, old: State, new: State) -> State:
        if new.is_running() and new.run_count == 1:
            outage.stop()
        if new.is_retrying():
            outage.start_again()
        return new

    @task(result=result)
    async def before() -> str:
        return "written while the server is up"

    @task(result=result, max_retries=1, retry_delay=0,
          state_handlers=[server_goes_away_then_returns])
    async def during(x: str) -> int:
        return 42

    with Flow("outage") as flow:
        during(before())

    state = await flow.run()

    assert state.is_successful(), state.message
    final = next(s for t, s in state.result.items() if t.name == "during")
    assert final.run_count == 2
    assert (await outage.result().read(final._result.location)).value == 42
    assert len([r for r in caplog.records if "retrying in" in r.getMessage()]) == 2


@pytest.mark.anyio
async def test_without_task_retries_the_task_fails_with_the_storage_error(
    outage: Outage,
) -> None:
    @task(result=outage.result(retries=1))
    async def compute() -> int:
        outage.stop()
        return 1

    with Flow("down") as flow:
        computed = compute()

    state = await flow.run()

    failed = state.result[computed]
    assert state.is_failed() and failed.is_failed()
    assert "could not write" in (failed.message or "")
    assert "after 2 attempts" in (failed.message or "")
