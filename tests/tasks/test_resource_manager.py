"""resource_manager: setup before a block of tasks, cleanup after, whatever happened."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from asyncflow import Flow, FlowDefinitionError, Parameter, case, resource_manager, task
from asyncflow.states import Failed, Skipped, Success
from asyncflow.tasks import ResourceManager

pytestmark = pytest.mark.anyio

events: list[str] = []


@pytest.fixture(autouse=True)
def _fresh_events() -> None:
    events.clear()


class Sync:
    def __init__(self, name: Any) -> None:
        self.name = name

    def setup(self) -> str:
        events.append(f"setup {self.name}")
        return f"<{self.name}>"

    def cleanup(self, resource: str) -> None:
        events.append(f"cleanup {resource}")


class Async:
    def __init__(self, name: str) -> None:
        self.name = name

    async def setup(self) -> str:
        events.append(f"setup {self.name} on the loop: {_on_loop()}")
        return f"<{self.name}>"

    async def cleanup(self, resource: str) -> None:
        events.append(f"cleanup {resource} on the loop: {_on_loop()}")


# mypy does not apply class decorators, so the managers are made by calling the decorator;
# test_the_decorator_form uses the @ form.
SyncResource = resource_manager(Sync)
AsyncResource = resource_manager(name="db")(Async)


def _on_loop() -> bool:
    return threading.current_thread() is threading.main_thread()


@task
def use(resource: str) -> str:
    events.append(f"use {resource}")
    return resource.upper()


@task
def fail(resource: str) -> None:
    events.append(f"fail {resource}")
    raise ValueError("inside the block")


async def test_setup_then_the_block_then_cleanup() -> None:
    with Flow("resource") as flow, SyncResource("r") as resource:
        used = use(resource)
    state = await flow.run()
    assert state.is_successful()
    assert state.result[used].result == "<R>"
    assert events == ["setup r", "use <r>", "cleanup <r>"]


async def test_async_setup_and_cleanup_are_awaited_on_the_loop() -> None:
    with Flow("resource") as flow, AsyncResource("a") as resource:
        use(resource)
    state = await flow.run()
    assert state.is_successful()
    assert events == ["setup a on the loop: True", "use <a>", "cleanup <a> on the loop: True"]


async def test_the_decorator_form_and_a_sync_setup_in_a_worker_thread() -> None:
    @resource_manager
    class Threaded:
        def setup(self) -> bool:
            return _on_loop()

        def cleanup(self, resource: bool) -> None:
            pass

    with Flow("resource") as flow, Threaded() as on_loop:  # type: ignore[attr-defined]
        pass
    state = await flow.run()
    assert state.result[on_loop].result is False


async def test_cleanup_runs_after_a_failing_task_and_the_flow_fails() -> None:
    with Flow("resource") as flow, SyncResource("r") as resource:
        broken = fail(resource)
        after = use(broken)
    state = await flow.run()
    assert events == ["setup r", "fail <r>", "cleanup <r>"]
    assert isinstance(state.result[broken], Failed)
    assert isinstance(state, Failed)  # decided by the block's tasks, not by the cleanup
    cleanup = next(t for t in flow.tasks if t.name == "Sync.cleanup")
    assert type(state.result[cleanup]) is Success
    assert flow.reference_tasks() == {after}


async def test_cleanup_waits_for_every_task_of_the_block() -> None:
    with Flow("resource") as flow, SyncResource("r") as resource:
        first = use(resource)
        use(first)
        use(resource)
    await flow.run()
    assert events[0] == "setup r"
    assert events[-1] == "cleanup <r>"
    assert len(events) == 5


async def test_a_failed_setup_skips_the_cleanup() -> None:
    class Broken:
        def setup(self) -> None:
            raise OSError("no resource")

        def cleanup(self, resource: Any) -> None:
            events.append("cleanup")

    with Flow("resource") as flow, resource_manager(Broken)() as resource:
        inner = use(resource)
    state = await flow.run()
    cleanup = next(t for t in flow.tasks if t.name == "Broken.cleanup")
    assert isinstance(state.result[cleanup], Skipped)
    assert events == []
    assert isinstance(state.result[inner], Failed)
    assert isinstance(state, Failed)


async def test_init_arguments_may_be_tasks() -> None:
    with Flow("resource") as flow, SyncResource(Parameter("name")) as resource:
        used = use(resource)
    state = await flow.run(parameters={"name": "param"})
    assert state.result[used].result == "<PARAM>"


async def test_tasks_after_the_block_follow_the_cleanup_only_through_data() -> None:
    with Flow("resource") as flow:
        with SyncResource("r") as resource:
            inside = use(resource)
        outside = use(inside)
    await flow.run()
    assert events.index("cleanup <r>") > events.index("use <r>")
    assert "use <R>" in events
    assert flow.reference_tasks() == {outside}


async def test_a_resource_inside_a_case_is_skipped_with_it() -> None:
    with Flow("resource") as flow, case(Parameter("p"), True), SyncResource("r") as resource:
        use(resource)
    state = await flow.run(parameters={"p": False})
    assert state.is_successful()
    assert events == []
    await flow.run(parameters={"p": True})
    assert events == ["setup r", "use <r>", "cleanup <r>"]


def test_task_names_and_options() -> None:
    manager = ResourceManager(Sync, name="custom",
                              setup_task_kwargs={"tags": ["db"]},
                              cleanup_task_kwargs={"max_retries": 1, "retry_delay": 0})
    with Flow("resource") as flow, manager("x"):
        pass
    by_name = {t.name: t for t in flow.tasks}
    assert set(by_name) == {"custom", "custom.setup", "custom.cleanup"}
    assert by_name["custom.setup"].tags == {"db"}
    assert by_name["custom.cleanup"].max_retries == 1
    assert AsyncResource.name == "db"


def test_the_class_needs_setup_and_cleanup() -> None:
    with pytest.raises(FlowDefinitionError, match="no setup or cleanup method"):
        @resource_manager
        class Nothing:
            pass


def test_outside_a_flow_names_the_fix() -> None:
    with pytest.raises(FlowDefinitionError,
                       match=r"`with Sync\(...\) as resource:` inside `with Flow"):
        SyncResource("r")
