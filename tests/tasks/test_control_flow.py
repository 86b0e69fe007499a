"""case, switch, ifelse and merge, run end to end."""

from __future__ import annotations

from typing import Any

import pytest

from asyncflow import Flow, FlowDefinitionError, Parameter, Task, case, task
from asyncflow.signals import SKIP
from asyncflow.states import Skipped, State, Success
from asyncflow.tasks import Constant, ifelse, merge, switch

pytestmark = pytest.mark.anyio


@task
def inc(x: int) -> int:
    return x + 1


@task
def label(x: Any) -> str:
    return f"got {x}"


@task
def condition(value: Any) -> Any:
    return value


@task(skip_on_upstream_skip=False)
def always(x: Any = None) -> str:
    return "ran"


def states(state: State, *tasks: Task[Any]) -> list[type]:
    return [type(state.result[t]) for t in tasks]


# ---- case -------------------------------------------------------------------------------
async def test_case_runs_its_tasks_when_the_value_matches() -> None:
    with Flow("case") as flow:
        p = Parameter("p")
        with case(p, "a"):
            first = inc(1)
            second = label(first)
    state = await flow.run(parameters={"p": "a"})
    assert state.is_successful()
    assert state.result[second].result == "got 2"


async def test_case_skips_its_tasks_and_their_downstream_otherwise() -> None:
    with Flow("case") as flow:
        p = Parameter("p")
        with case(p, "a"):
            first = inc(1)
            second = label(first)
        after = label(second)
    state = await flow.run(parameters={"p": "b"})
    assert states(state, first, second, after) == [Skipped, Skipped, Skipped]
    assert state.is_successful()  # skipped counts as success, as in Prefect


async def test_only_the_matching_case_runs() -> None:
    ran: list[str] = []

    @task
    def note(name: str) -> str:
        ran.append(name)
        return name

    with Flow("cases") as flow:
        p = Parameter("p")
        for value in ("a", "b", "c"):
            with case(p, value):
                note(value)
    await flow.run(parameters={"p": "b"})
    assert ran == ["b"]


async def test_case_compares_with_equality() -> None:
    with Flow("case") as flow, case(condition(1.0), 1):
        hit = inc(1)
    state = await flow.run()
    assert state.result[hit].result == 2


async def test_case_links_only_the_tasks_without_an_upstream_in_the_block() -> None:
    with Flow("case") as flow:
        outside = inc(0)
        with case(condition(True), True):
            first = inc(outside)
            second = label(first)
    (compare,) = flow.upstream_tasks(first) - {outside}
    assert compare.name == "case(True)"
    assert flow.upstream_tasks(second) == {first}


async def test_nested_cases_need_both_to_match() -> None:
    with Flow("nested") as flow:
        x, y = Parameter("x"), Parameter("y")
        with case(x, 1):
            outer = inc(10)
            with case(y, 2):
                inner = inc(20)
    both = await flow.run(parameters={"x": 1, "y": 2})
    assert states(both, outer, inner) == [Success, Success]
    only_outer = await flow.run(parameters={"x": 1, "y": 3})
    assert states(only_outer, outer, inner) == [Success, Skipped]
    neither = await flow.run(parameters={"x": 0, "y": 2})
    assert states(neither, outer, inner) == [Skipped, Skipped]


def test_an_empty_case_adds_nothing() -> None:
    with Flow("case") as flow:
        c = condition(1)
        with case(c, 1):
            pass
    assert flow.tasks == {c}


def test_case_value_must_not_be_a_task() -> None:
    with Flow("case"), pytest.raises(FlowDefinitionError, match="is_equal"):
        case(condition(1), condition(2))


def test_a_case_holds_the_tasks_of_one_flow() -> None:
    other = Flow("other")
    with Flow("case"):
        c = condition(1)
        with case(c, 1), pytest.raises(FlowDefinitionError, match="one flow"):
            inc(1)
            inc(2, flow=other)


def test_an_error_inside_a_case_leaves_it_closed() -> None:
    with Flow("case") as flow:
        c = condition(1)
        with pytest.raises(RuntimeError), case(c, 1):
            raise RuntimeError("while building")
        later = inc(1)
    assert flow.upstream_tasks(later) == set()


# ---- switch and ifelse --------------------------------------------------------------
async def test_switch_runs_the_matching_branch_and_skips_the_others() -> None:
    with Flow("switch") as flow:
        a, b, c = label("a"), label("b"), label("c")
        switch(Parameter("p"), {"a": a, "b": b, "c": c})
        after_b = inc(Constant(1), upstream_tasks=[b])
    state = await flow.run(parameters={"p": "b"})
    assert states(state, a, b, c, after_b) == [Skipped, Success, Skipped, Success]
    state = await flow.run(parameters={"p": "a"})
    assert states(state, a, b, c, after_b) == [Success, Skipped, Skipped, Skipped]


async def test_switch_with_no_match_skips_every_branch() -> None:
    with Flow("switch") as flow:
        a, b = label("a"), label("b")
        switch(Parameter("p"), {"a": a, "b": b})
        tidy = always(a)
    state = await flow.run(parameters={"p": "z"})
    assert states(state, a, b) == [Skipped, Skipped]
    assert state.result[tidy].result == "ran"  # skip_on_upstream_skip=False still runs


def test_switch_takes_a_dict() -> None:
    with Flow("switch"), pytest.raises(FlowDefinitionError, match="dict"):
        switch(condition(1), [label("a")])  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [(True, "yes"), ([1], "yes"), (0, "no"),
                                                  ("", "no")])
async def test_ifelse_follows_the_truth_of_the_condition(value: Any, expected: str) -> None:
    with Flow("ifelse") as flow:
        yes, no = condition("yes"), condition("no")
        ifelse(condition(value), yes, no)
        answer = merge(yes, no)
    state = await flow.run()
    assert state.result[answer].result == expected
    ran = yes if expected == "yes" else no
    skipped = no if expected == "yes" else yes
    assert states(state, ran, skipped) == [Success, Skipped]


async def test_ifelse_with_one_branch() -> None:
    with Flow("ifelse") as flow:
        only = label("x")
        ifelse(Parameter("p"), only, None)
    assert states(await flow.run(parameters={"p": False}), only) == [Skipped]
    assert states(await flow.run(parameters={"p": True}), only) == [Success]


async def test_a_skip_raised_by_a_condition_skips_the_branches() -> None:
    @task
    def undecided() -> None:
        raise SKIP("not today")

    with Flow("ifelse") as flow:
        yes, no = label("y"), label("n")
        ifelse(undecided(), yes, no)
        answer = merge(yes, no)
    state = await flow.run()
    assert states(state, yes, no, answer) == [Skipped, Skipped, Skipped]


# ---- merge ------------------------------------------------------------------------------
async def test_merge_gives_the_first_branch_that_ran() -> None:
    with Flow("merge") as flow:
        p = Parameter("p")
        with case(p, 1):
            one = label(1)
        with case(p, 2):
            two = label(2)
        merged = merge(one, two)
        after = label(merged)
    state = await flow.run(parameters={"p": 2})
    assert state.result[merged].result == "got 2"
    assert state.result[after].result == "got got 2"


async def test_merge_keeps_argument_order_past_nine_tasks() -> None:
    with Flow("merge") as flow:
        branches = [condition(None) for _ in range(10)] + [condition("eleventh"),
                                                             condition("twelfth")]
        merged = merge(*branches)
    state = await flow.run()
    assert state.result[merged].result == "eleventh"


async def test_merge_skips_when_every_branch_skipped() -> None:
    with Flow("merge") as flow:
        p = Parameter("p")
        with case(p, 1):
            one = label(1)
        merged = merge(one)
        after = label(merged)
    state = await flow.run(parameters={"p": 0})
    assert states(state, merged, after) == [Skipped, Skipped]


def test_merge_needs_tasks_and_a_flow() -> None:
    with Flow("merge"), pytest.raises(FlowDefinitionError, match="needs the tasks"):
        merge()
    with pytest.raises(FlowDefinitionError, match=r"inside `with Flow\('name'\) as flow:`"):
        merge(Task("a"))


async def test_merge_into_a_given_flow() -> None:
    flow = Flow("given")
    a = condition.copy()
    flow.set_dependencies(a, keyword_tasks={"value": 5})
    merged = merge(a, flow=flow)
    state = await flow.run()
    assert state.result[merged].result == 5


@pytest.mark.parametrize("build", [lambda c, t: switch(c, {1: t}),
                                   lambda c, t: ifelse(c, t, None)])
def test_switch_and_ifelse_outside_a_flow_name_the_fix(build: Any) -> None:
    with pytest.raises(FlowDefinitionError, match=r"inside `with Flow\('name'\) as flow:`"):
        build(Task("c"), Task("t"))
