"""Building flows: the functional and imperative APIs, and errors raised before any run."""

from __future__ import annotations

from typing import Any

import pytest

from asyncflow import (
    CycleError,
    Flow,
    FlowDefinitionError,
    FlowRunError,
    Parameter,
    ParameterError,
    Task,
    task,
    unmapped,
)


@task
def add(x: int, y: int = 1) -> int:
    return x + y


class AddTask(Task[int]):
    def run(self, x: int, y: int) -> int:
        return x + y


def test_calling_a_task_in_a_flow_adds_a_copy_with_data_edges() -> None:
    with Flow("f") as flow:
        first = add(1, y=2)
        second = add(x=first, y=100)
    assert first is not add and second is not add
    assert flow.tasks == {first, second}
    (edge,) = flow.edges
    assert (edge.upstream_task, edge.downstream_task, edge.key) == (first, second, "x")
    assert flow.constants[first] == {"x": 1, "y": 2}
    assert flow.constants[second] == {"y": 100}
    assert flow.upstream_tasks(second) == {first}
    assert flow.downstream_tasks(first) == {second}


def test_slugs_are_unique_and_tasks_can_be_found_by_name() -> None:
    with Flow("f") as flow:
        a = add(1)
        b = add(2)
    assert {a.slug, b.slug} == {"add-1", "add-2"}
    assert flow.get_tasks(name="add") == [a, b]
    assert flow.get_tasks(slug="add-2") == [b]


def test_upstream_tasks_add_state_only_edges() -> None:
    with Flow("f") as flow:
        a = add(1)
        b = add(2, upstream_tasks=[a])
    (edge,) = flow.edges
    assert edge.key is None and edge.upstream_task is a and edge.downstream_task is b


def test_imperative_api() -> None:
    flow = Flow("f")
    a, b, c = AddTask(name="a"), AddTask(name="b"), AddTask(name="c")
    flow.add_task(a)
    flow.add_edge(a, b, key="x")
    flow.set_dependencies(c, upstream_tasks=[b], keyword_tasks={"x": a, "y": 5})
    assert flow.tasks == {a, b, c}
    assert flow.upstream_tasks(c) == {a, b}
    assert flow.constants[c] == {"y": 5}
    assert flow.terminal_tasks() == {c}
    assert flow.root_tasks() == {a}
    flow.validate()


def test_a_list_of_tasks_becomes_one_input() -> None:
    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("f") as flow:
        parts = [add(1), add(2), 10]
        s = total(parts)
    state = flow.run_sync()
    assert state.result[s].result == 2 + 3 + 10


def test_copy_keeps_graph_but_not_identity() -> None:
    with Flow("f") as flow:
        add(add(1))
    other = flow.copy()
    assert other.tasks == flow.tasks and other.edges == flow.edges
    other.add_task(AddTask(name="extra"))
    assert len(other.tasks) == len(flow.tasks) + 1


def test_cycle_is_rejected_naming_the_cycle() -> None:
    flow = Flow("f")
    a, b, c = AddTask(name="a"), AddTask(name="b"), AddTask(name="c")
    flow.add_edge(a, b)
    flow.add_edge(b, c)
    with pytest.raises(CycleError, match=r"cycle: a-1 -> b-1 -> c-1 -> a-1|c-1 -> a-1"):
        flow.add_edge(c, a)
    with pytest.raises(CycleError, match="cannot depend on itself"):
        flow.add_edge(a, a)


def test_non_callable_to_task_decorator() -> None:
    with pytest.raises(FlowDefinitionError, match="@task decorates a function"):
        task(42)  # type: ignore[call-overload]


def test_calling_with_arguments_the_body_does_not_accept() -> None:
    with Flow("f"), pytest.raises(FlowDefinitionError, match=r"add\(x, y=1\)"):
        add(1, 2, 3)
    with Flow("f"), pytest.raises(FlowDefinitionError, match="unexpected keyword argument 'z'"):
        add(x=1, z=2)
    with Flow("f"), pytest.raises(FlowDefinitionError, match="missing a required argument: 'y'"):
        AddTask()(x=1)


def test_calling_a_task_outside_a_flow_says_how_to_fix_it() -> None:
    with pytest.raises(FlowDefinitionError, match="inside `with Flow"):
        add(1)


def test_retries_need_a_delay() -> None:
    with pytest.raises(FlowDefinitionError, match="needs a retry_delay"):
        Task(max_retries=2)


def test_bad_options_are_rejected_with_the_fix() -> None:
    with pytest.raises(FlowDefinitionError, match="trigger"):
        Task(trigger="all_successful")  # type: ignore[arg-type]
    with pytest.raises(FlowDefinitionError, match="state_handlers takes a list"):
        Task(state_handlers=print)  # type: ignore[arg-type]
    with pytest.raises(FlowDefinitionError, match="timeout must be a number"):
        Task(timeout="10s")  # type: ignore[arg-type]
    with pytest.raises(FlowDefinitionError, match="retry_on takes exception classes"):
        Task(max_retries=1, retry_delay=0, retry_on=["ValueError"])  # type: ignore[list-item]


def test_duplicate_parameter_names() -> None:
    with Flow("f") as flow:
        add(Parameter("x"))
        with pytest.raises(FlowDefinitionError, match="already has a parameter named 'x'"):
            add(Parameter("x"))
    assert list(flow.parameters()) == ["x"]


def test_unknown_and_missing_parameters_fail_before_any_task_runs() -> None:
    ran: list[int] = []

    @task
    def record(x: Any) -> None:
        ran.append(x)

    with Flow("f") as flow:
        record(Parameter("x"))
        record(Parameter("y", default=3))
    with pytest.raises(ParameterError, match=r"missing required parameters \['x'\]"):
        flow.run_sync()
    with pytest.raises(ParameterError, match=r"unknown parameters \['z'\]"):
        flow.run_sync(parameters={"x": 1, "z": 2})
    assert ran == []


@pytest.mark.anyio
async def test_run_inside_a_with_flow_block_is_an_error() -> None:
    with Flow("f") as flow:
        add(1)
        with pytest.raises(FlowRunError, match="inside a `with Flow"):
            await flow.run()


@pytest.mark.anyio
async def test_run_sync_inside_an_event_loop_is_an_error() -> None:
    flow = Flow("f", tasks=[AddTask()])
    with pytest.raises(FlowRunError, match=r"await flow\.run"):
        flow.run_sync()


@pytest.mark.anyio
async def test_unmapped_in_an_ordinary_call_passes_the_value_whole() -> None:
    with Flow("f") as flow:
        total = add(unmapped(1))
    state = await flow.run()
    assert state.result[total].result == 2


def test_mapping_over_a_non_iterable_constant_is_an_error() -> None:
    with Flow("f"), pytest.raises(FlowDefinitionError, match="cannot map over x=5"):
        add.map(x=5)


def test_copies_made_by_calls_share_one_binding_plan() -> None:
    @task
    def body(x: int, y: int = 0) -> int:
        return x + y

    with Flow("f"):
        first = body(1)
        second = body(2, y=3)
        third = body.map([1, 2])
    # The signature is inspected once per task, not once per call: a 100,000-task flow
    # would otherwise hold 100,000 signatures.
    assert first._bind_plan is second._bind_plan is third._bind_plan is body._bind_plan
    assert first._signature_cache is body._signature_cache
