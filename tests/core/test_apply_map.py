"""apply_map: a function that builds tasks, mapped as a whole over its inputs."""

from __future__ import annotations

from typing import Any

import pytest

from asyncflow import (
    Flow,
    FlowDefinitionError,
    Parameter,
    Task,
    apply_map,
    case,
    flatten,
    task,
    unmapped,
)
from asyncflow.exceptions import TaskArgumentError
from asyncflow.signals import FAIL
from asyncflow.states import Failed, Mapped, Skipped, Success
from asyncflow.tasks import merge


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def is_even(x: int) -> bool:
    return x % 2 == 0


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


calls: list[str] = []


@task
def note() -> None:
    calls.append("note")


def inc_if_even(x: Task[Any]) -> Task[Any]:
    with case(is_even(x), True):
        bigger = inc(x)
    return merge(bigger, x)


def test_each_element_takes_its_own_branch_of_a_case() -> None:
    with Flow("f") as flow:
        result = apply_map(inc_if_even, range(6))
        summed = total(result)
    state = flow.run_sync()
    assert state.is_successful()
    assert state.result[result].result == [1, 1, 3, 3, 5, 5]
    assert state.result[summed].result == 18
    increments = [t for t in flow.tasks if t.name == "inc"]
    (increment,) = increments
    children = state.result[increment].map_states
    assert [type(s) for s in children] == [Success, Skipped] * 3


def test_it_maps_over_an_upstream_tasks_result_and_passes_unmapped_inputs_whole() -> None:
    with Flow("f") as flow:
        offset = Parameter("offset", default=100)
        values = numbers(3)
        result = apply_map(lambda x, y: add(inc(x), y), values, y=unmapped(offset))
        plain = apply_map(lambda x, y: add(x, y), [1, 2], y=unmapped(5))
    state = flow.run_sync()
    assert state.result[result].result == [101, 102, 103]
    assert state.result[plain].result == [6, 7]
    assert not flow.is_mapped(offset) and not flow.is_mapped(values)


def test_a_failure_stays_in_its_element() -> None:
    @task
    def check(x: int) -> int:
        if x == 1:
            raise FAIL("one is not allowed")
        return x

    with Flow("f") as flow:
        result = apply_map(lambda x: inc(check(x)), [0, 1, 2])
    state = flow.run_sync()
    assert isinstance(state.result[result], Mapped)
    assert [s.result for s in state.result[result].map_states if s.is_successful()] == [1, 3]
    assert isinstance(state.result[result].map_states[1], Failed)


def test_a_task_that_uses_no_input_still_runs_once_per_element() -> None:
    calls.clear()

    def body(x: Task[Any]) -> Task[Any]:
        note()
        return inc(x)

    with Flow("f") as flow:
        apply_map(body, [1, 2, 3])
    assert flow.run_sync().is_successful()
    assert calls == ["note"] * 3


def test_outside_tasks_used_by_the_function_are_given_whole() -> None:
    with Flow("f") as flow:
        scale = Parameter("scale", default=10)
        result = apply_map(lambda x: add(x, scale), [1, 2])
    assert flow.run_sync().result[result].result == [11, 12]


def test_a_flattened_input_is_mapped_over_element_by_element() -> None:
    with Flow("f") as flow:
        nested = apply_map(lambda n: numbers(n), [2, 3])
        result = apply_map(inc, flatten(nested))
    assert flow.run_sync().result[result].result == [1, 2, 1, 2, 3]


def test_apply_map_inside_a_case_makes_the_whole_sub_graph_conditional() -> None:
    with Flow("f") as flow:
        go = Parameter("go", default=False)
        with case(go, True):
            result = apply_map(inc_if_even, [1, 2])
    state = flow.run_sync()
    assert isinstance(state.result[result], Skipped)
    assert flow.run_sync(parameters={"go": True}).result[result].result == [1, 3]


def test_with_flow_given_the_function_gets_it_too() -> None:
    flow = Flow("f")
    seen: list[Flow] = []

    def body(x: Task[Any], flow: Flow) -> Task[Any]:
        seen.append(flow)
        return inc(x, flow=flow)

    result = apply_map(body, [1, 2], flow=flow)
    assert seen and seen[0] is not flow  # a scratch copy, merged in afterwards
    assert flow.run_sync().result[result].result == [2, 3]


def test_slugs_are_unique_in_the_flow() -> None:
    with Flow("f") as flow:
        first = inc(1)
        apply_map(lambda x: inc(x), [1])
        apply_map(lambda x: inc(x), [2])
    assert first.slug == "inc-1"
    assert sorted(str(t.slug) for t in flow.tasks if t.name == "inc") == ["inc-1", "inc-2", "inc-3"]


def test_a_value_that_cannot_be_mapped_over_is_a_type_error() -> None:
    with Flow("f") as flow:
        for value in (3, "abc", {"a": 1}):
            with pytest.raises(TaskArgumentError, match="cannot map over argument 1") as info:
                apply_map(inc, value)
            assert isinstance(info.value, TypeError)
    assert flow.tasks == set()


def test_a_map_inside_the_function_is_refused_and_nothing_is_added() -> None:
    with Flow("f") as flow:
        values = numbers(3)
        with pytest.raises(FlowDefinitionError, match=r"map of its own"):
            apply_map(lambda x: inc.map(x), values)
        with pytest.raises(FlowDefinitionError, match=r"map of its own"):
            apply_map(lambda x: apply_map(inc, x), values)
    assert flow.tasks == {values}


def test_apply_map_needs_a_flow_and_a_function() -> None:
    with pytest.raises(FlowDefinitionError, match="outside a flow"):
        apply_map(inc, [1])
    with Flow("f"), pytest.raises(TypeError, match="takes a function"):
        apply_map([1, 2], [1])  # type: ignore[arg-type]
