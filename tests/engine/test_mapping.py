"""Mapping: one child run per element, in order, concurrently."""

from __future__ import annotations

import datetime
from typing import Any

import anyio
import pytest

from asyncflow import Flow, Parameter, context, flatten, task, unmapped
from asyncflow.signals import SKIP
from asyncflow.states import Failed, Mapped, Skipped, State, Success, TriggerFailed

from ..core.recorder import Recorder

pytestmark = pytest.mark.anyio


@task
async def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def numbers(n: int = 3) -> list[int]:
    return list(range(n))


async def test_map_reduce() -> None:
    with Flow("f") as flow:
        nums = numbers()
        plus = inc.map(nums)
        s = total(plus)
    state = await flow.run()
    parent = state.result[plus]
    assert isinstance(parent, Mapped)
    assert parent.result == [1, 2, 3]
    assert [c.map_index for c in parent.map_states] == [0, 1, 2]
    assert all(isinstance(c, Success) for c in parent.map_states)
    assert state.result[s].result == 6


async def test_map_of_a_map_is_elementwise_and_unmapped_is_whole() -> None:
    with Flow("f") as flow:
        first = inc.map([1, 2, 3])
        second = add.map(first, unmapped(10))
    state = await flow.run()
    assert state.result[second].result == [12, 13, 14]


async def test_shortest_input_wins_and_empty_gives_empty() -> None:
    with Flow("f") as flow:
        short = add.map([1, 2, 3], [10, 20])
        empty = inc.map([])
        after_empty = total(empty)
    state = await flow.run()
    assert state.result[short].result == [11, 22]
    assert state.result[empty].result == []
    assert state.result[empty].map_states == []
    assert state.result[after_empty].result == 0


async def test_flatten() -> None:
    @task
    def nested() -> list[list[int]]:
        return [[1, 2], [3], []]

    with Flow("f") as flow:
        out = inc.map(flatten(nested()))
        const = inc.map(flatten([[10], [20, 30]]))
    state = await flow.run()
    assert state.result[out].result == [2, 3, 4]
    assert state.result[const].result == [11, 21, 31]


async def test_children_have_their_own_context_and_run_ids() -> None:
    seen: list[tuple[Any, ...]] = []

    @task
    async def look(x: int) -> None:
        seen.append((x, context.map_index, context.task_full_name, context.task_run_id))

    with Flow("f") as flow:
        look.map([10, 20, 30])
    await flow.run()
    seen.sort()
    assert [s[:3] for s in seen] == [(10, 0, "look[0]"), (20, 1, "look[1]"), (30, 2, "look[2]")]
    assert len({s[3] for s in seen}) == 3


async def test_transitions_of_parent_and_children() -> None:
    rec = Recorder()

    @task(state_handlers=[rec])
    async def child(x: int) -> int:
        return x

    with Flow("f") as flow:
        child.map([1, 2])
    await flow.run()
    events = rec.for_("child")
    assert events[0] == ("Pending", "Mapped")
    assert events.count(("Pending", "Running")) == 2
    assert events.count(("Running", "Success")) == 2
    child_states = [new for _, new in rec.states[1:]]
    assert {s.map_index for s in child_states} == {0, 1}


async def test_children_run_concurrently() -> None:
    arrived = 0
    all_here = anyio.Event()

    @task
    async def meet(x: int) -> int:
        nonlocal arrived
        arrived += 1
        if arrived == 50:
            all_here.set()
        await all_here.wait()
        return x

    with Flow("f") as flow:
        m = meet.map(list(range(50)))
    with anyio.fail_after(5):
        state = await flow.run()
    assert state.result[m].result == list(range(50))


async def test_failed_children_fail_downstream_children_and_the_flow() -> None:
    @task
    def maybe_fail(x: int) -> int:
        if x == 1:
            raise ValueError("one")
        return x

    with Flow("f") as flow:
        first = maybe_fail.map([0, 1, 2])
        second = inc.map(first)
        reduced = total(second)
    state = await flow.run()
    assert isinstance(state, Failed)
    kinds = [type(s) for s in state.result[second].map_states]
    assert kinds == [Success, TriggerFailed, Success]
    assert isinstance(state.result[reduced], TriggerFailed)


async def test_retries_inside_a_map() -> None:
    attempts: dict[int, int] = {}

    @task(max_retries=2, retry_delay=datetime.timedelta(0))
    def flaky(x: int) -> int:
        attempts[x] = attempts.get(x, 0) + 1
        if attempts[x] < 2:
            raise ConnectionError("try again")
        return x * 10

    with Flow("f") as flow:
        m = flaky.map([1, 2, 3])
    state = await flow.run()
    assert state.result[m].result == [10, 20, 30]
    assert attempts == {1: 2, 2: 2, 3: 2}
    assert [c.run_count for c in state.result[m].map_states] == [2, 2, 2]


async def test_skipped_children_skip_their_downstream_children() -> None:
    @task
    def only_even(x: int) -> int:
        if x % 2:
            raise SKIP("odd")
        return x

    @task(skip_on_upstream_skip=False)
    def keep(xs: list[Any]) -> list[Any]:
        return xs

    with Flow("f") as flow:
        evens = only_even.map([0, 1, 2])
        plus = inc.map(evens)
        kept = keep(evens)
    state = await flow.run()
    assert [type(s) for s in state.result[plus].map_states] == [Success, Skipped, Success]
    kept_values = state.result[kept].result
    assert kept_values[0] == 0 and kept_values[2] == 2
    assert isinstance(kept_values[1], SKIP)  # a signal is its state's result


async def test_a_mapped_task_over_a_skipped_upstream_is_skipped_even_if_it_runs_on_skips() -> None:
    @task
    def nothing() -> list[int]:
        raise SKIP("no input today")

    @task(skip_on_upstream_skip=False)
    def tolerant(x: int) -> int:
        return x

    with Flow("f") as flow:
        mapped = tolerant.map(nothing())
    state = await flow.run()
    assert isinstance(state.result[mapped], Skipped)
    assert "nothing to map over" in (state.result[mapped].message or "")
    assert state.is_successful()


async def test_mapping_over_a_non_iterable_result_fails_the_parent_clearly() -> None:
    @task
    def scalar() -> int:
        return 5

    with Flow("f") as flow:
        m = inc.map(scalar())
    state = await flow.run()
    assert isinstance(state.result[m], Failed)
    assert state.result[m].message == "At least one upstream state has an unmappable result."
    assert "not iterable" in str(state.result[m].result)


async def test_map_over_a_parameter() -> None:
    with Flow("f") as flow:
        xs = Parameter("xs")
        m = inc.map(xs)
    state = await flow.run(parameters={"xs": [5, 6]})
    assert state.result[m].result == [6, 7]


async def test_large_map() -> None:
    with Flow("f") as flow:
        m = inc.map(list(range(20_000)))
        s = total(m)
    state = await flow.run()
    assert state.result[s].result == sum(range(1, 20_001))


async def test_handlers_see_map_index_on_child_states() -> None:
    indexes: list[int | None] = []

    def watch(obj: Any, old: State, new: State) -> None:
        if new.is_successful():
            indexes.append(new.map_index)

    @task(state_handlers=[watch])
    async def child(x: int) -> int:
        return x

    with Flow("f") as flow:
        child.map([7, 8])
    await flow.run()
    assert sorted(i for i in indexes if i is not None) == [0, 1]


async def test_running_a_map_does_not_change_the_flow() -> None:
    with Flow("f") as flow:
        m = inc.map(range(3))
    assert (await flow.run()).result[m].result == [1, 2, 3]
    assert flow.constants[m] == {"x": range(3)}
    assert (await flow.run()).result[m].result == [1, 2, 3]
