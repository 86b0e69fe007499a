"""Engine behaviours Prefect 1.x flows rely on: triggers given a dict of edge to state,
context keys without a value stay absent, mapping over upstream_tasks, skips inside
mapped pipelines, raise_on_exception, and sync bodies that return generators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from asyncflow import Edge, Flow, context, flatten, mapped, task, unmapped
from asyncflow.signals import LOOP, SKIP
from asyncflow.states import Failed, Mapped, Skipped, State, Success, TriggerFailed
from asyncflow.tasks import Constant
from asyncflow.testing import raise_on_exception

pytestmark = pytest.mark.anyio


@task
def one() -> int:
    return 1


@task
def boom() -> int:
    raise ValueError("boom")


@task
def numbers() -> list[int]:
    return [1, 2, 3]


async def test_a_custom_trigger_gets_a_dict_of_edge_to_state() -> None:
    seen: list[Mapping[Edge, State]] = []

    def my_trigger(upstream_states: Mapping[Edge, State]) -> bool:
        seen.append(dict(upstream_states))
        return all(s.is_successful() for s in upstream_states.values())

    @task(trigger=my_trigger)
    def downstream(x: int) -> int:
        return x

    with Flow("f") as flow:
        up = one()
        down = downstream(up)
        other = one.copy()
        down.set_upstream(other)
    state = await flow.run()
    assert state.result[down].result == 1
    (given,) = seen
    assert {(e.upstream_task, e.key) for e in given} == {(up, "x"), (other, None)}
    assert all(isinstance(s, Success) for s in given.values())


async def test_a_custom_trigger_sees_a_failed_upstream_and_can_refuse() -> None:
    def only_if_all_good(upstream_states: Mapping[Edge, State]) -> bool:
        return not any(s.is_failed() for s in upstream_states.values())

    @task(trigger=only_if_all_good)
    def downstream(x: int) -> int:
        return x

    with Flow("f") as flow:
        down = downstream(boom())
    state = await flow.run()
    assert isinstance(state.result[down], TriggerFailed)


async def test_the_loop_idiom_gets_its_default_on_the_first_run() -> None:
    @task
    def count_up() -> dict[str, int]:
        loop_payload: dict[str, int] = context.get("task_loop_result", {"n": 0})
        if loop_payload["n"] < 3:
            raise LOOP(result={"n": loop_payload["n"] + 1})
        return loop_payload

    with Flow("f") as flow:
        t = count_up()
    state = await flow.run()
    assert state.result[t].result == {"n": 3}


async def test_an_unset_task_key_is_absent_but_reads_as_none_as_an_attribute() -> None:
    @task
    def look() -> tuple[bool, Any, Any]:
        return ("task_loop_result" in context, context.get("task_loop_result", "default"),
                context.task_loop_result)

    with Flow("f") as flow:
        t = look()
    state = await flow.run()
    assert state.result[t].result == (False, "default", None)


async def test_map_over_upstream_tasks_maps_over_that_upstreams_result() -> None:
    calls: list[int] = []

    @task
    def record() -> None:
        calls.append(1)

    with Flow("f") as flow:
        nums = numbers()
        each = record.map(upstream_tasks=[nums])
    state = await flow.run()
    assert isinstance(state.result[each], Mapped)
    assert len(state.result[each].map_states) == 3 and len(calls) == 3


async def test_unmapped_upstream_tasks_is_an_ordering_edge_only() -> None:
    @task
    def plus(x: int) -> int:
        return x + 10

    with Flow("f") as flow:
        first = one()
        each = plus.map([1, 2], upstream_tasks=[unmapped(first)])
    state = await flow.run()
    assert state.result[each].result == [11, 12]
    assert first in flow.upstream_tasks(each)


async def test_unmapped_of_a_mapped_task_passes_the_whole_list() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @task
    def pair(x: int, all_of: list[int]) -> tuple[int, list[int]]:
        return x, all_of

    with Flow("f") as flow:
        doubled = double.map(numbers())
        pairs = pair.map([0, 1], unmapped(doubled))
    state = await flow.run()
    assert state.result[pairs].result == [(0, [2, 4, 6]), (1, [2, 4, 6])]


async def test_flatten_of_a_plain_list_of_lists() -> None:
    @task
    def ident(x: int) -> int:
        return x

    with Flow("f") as flow:
        each = ident.map(flatten([[1, 2], [3]]))
    state = await flow.run()
    assert state.result[each].result == [1, 2, 3]


async def test_mapped_marks_a_plain_list_as_mapped() -> None:
    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("f") as flow:
        each = add(mapped([1, 2]), 10)
    state = await flow.run()
    assert state.result[each].result == [11, 12]


async def test_a_skip_inside_a_mapped_pipeline_skips_its_branch_and_the_flow_succeeds() -> None:
    @task
    def maybe(x: int) -> int:
        if x == 2:
            raise SKIP("not two")
        return x

    @task
    def after(x: int) -> int:
        return x * 10

    with Flow("f") as flow:
        result = after.map(maybe.map([1, 2, 3]))
    state = await flow.run()
    assert state.is_successful()
    children = state.result[result].map_states
    assert [type(c) for c in children] == [Success, Skipped, Success]
    assert [c.result for c in children if type(c) is Success] == [10, 30]


async def test_constant_holds_a_plain_value_in_the_graph() -> None:
    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("f") as flow:
        two = Constant(2)
        total = add(1, two)
    assert two in flow.tasks and two.value == 2
    state = await flow.run()
    assert state.result[two].result == 2
    assert state.result[total].result == 3


async def test_raise_on_exception_lets_a_task_error_out_of_the_run() -> None:
    with Flow("f") as flow:
        boom()
    with raise_on_exception(), pytest.raises(ValueError, match="boom"):
        await flow.run()
    state = await flow.run()  # outside the block the run records the failure
    assert isinstance(state, Failed)


async def test_a_sync_body_returning_a_generator_succeeds_with_the_generator() -> None:
    def gen() -> Iterator[int]:
        yield from (1, 2)

    @task
    def produce() -> Iterator[int]:
        return gen()

    @task
    def consume(values: Iterator[int]) -> list[int]:
        return list(values)

    with Flow("f") as flow:
        out = consume(produce())
    state = await flow.run()
    assert state.is_successful(), state
    assert state.result[out].result == [1, 2]
