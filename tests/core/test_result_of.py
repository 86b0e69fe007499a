"""``state.result_of(task)``: a task's value read from a flow run's final state."""

from __future__ import annotations

import pytest

from asyncflow import Flow, FlowRunError, task
from asyncflow.states import Success


@task
async def add(x: int, y: int = 1) -> int:
    return x + y


@task
def broken(x: int) -> int:
    raise ValueError(f"no {x}")


def test_the_value_of_a_task_that_succeeded() -> None:
    with Flow("f") as flow:
        first = add(1)
        second = add(first, y=10)
        each = add.map([1, 2])
    state = flow.run_sync(history=False)
    assert state.result_of(first) == 2
    assert state.result_of(second) == 12
    assert state.result_of(each) == [2, 3]


def test_a_failed_task_has_no_value() -> None:
    with Flow("f") as flow:
        bad = broken(1)
    state = flow.run_sync(history=False)
    with pytest.raises(FlowRunError, match=r"task 'broken-1' ended Failed\(.*so it has no value"):
        state.result_of(bad)


def test_a_mapped_task_with_a_failed_child_has_no_value() -> None:
    with Flow("f") as flow:
        bad = broken.map([1, 2])
    state = flow.run_sync(history=False)
    with pytest.raises(FlowRunError, match="map_states for its children"):
        state.result_of(bad)


def test_the_decorated_function_is_not_a_task_of_the_run() -> None:
    with Flow("f") as flow:
        add(1)
    state = flow.run_sync(history=False)
    with pytest.raises(FlowRunError, match="'add' is not a task of this flow run; pass what "
                                           "the call returned"):
        state.result_of(add)


def test_a_state_without_task_states() -> None:
    with pytest.raises(FlowRunError, match="maps no tasks to states"):
        Success(result=3).result_of(add)
