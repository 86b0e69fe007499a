"""Editing built flows: replace, update, chain, and the graph queries Prefect 1.x has."""

from __future__ import annotations

import pytest

from asyncflow import (
    CycleError,
    Flow,
    FlowDefinitionError,
    Parameter,
    Task,
    task,
)
from asyncflow.exceptions import TaskArgumentError
from asyncflow.tasks import Constant


@task
def inc(x: int) -> int:
    return x + 1


@task
def double(x: int) -> int:
    return x * 2


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def noop() -> None:
    return None


class Doubler(Task[int]):
    def run(self, x: int) -> int:
        return x * 2


def _graph(flow: Flow) -> set[tuple[str | None, str | None, str | None]]:
    return {(e.upstream_task.slug, e.downstream_task.slug, e.key) for e in flow.edges}


# ---- replace -------------------------------------------------------------------------
def test_replace_moves_edges_and_constant_inputs_to_the_new_task() -> None:
    with Flow("f") as flow:
        n = Parameter("n", default=3)
        first = add(n, 10)
        last = inc(first)
    new = AddMul()
    flow.replace(first, new)
    assert first not in flow.tasks and new in flow.tasks
    assert flow.upstream_tasks(new) == {n} and flow.downstream_tasks(new) == {last}
    assert flow.constants[new] == {"y": 10}
    state = flow.run_sync()
    assert state.result[last].result == 3 * 10 + 1


class AddMul(Task[int]):
    def run(self, x: int, y: int) -> int:
        return x * y


def test_replace_keeps_a_reference_task_a_reference_task() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
    flow.set_reference_tasks([a])
    new = Doubler()
    flow.replace(a, new)
    assert flow.reference_tasks() == {new}
    assert flow.upstream_tasks(b) == {new}


def test_replace_with_a_plain_value_puts_a_constant_in_its_place() -> None:
    with Flow("f") as flow:
        start = noop()
        a = add(start, 1)
        b = inc(a)
    flow.replace(a, 41)
    (constant,) = flow.upstream_tasks(b)
    assert isinstance(constant, Constant) and constant.value == 41
    assert [(e.upstream_task, e.key) for e in flow.edges_to(constant)] == [(start, None)]
    assert constant not in flow.constants
    assert flow.run_sync().result[b].result == 42


def test_replacing_a_parameter_by_one_of_the_same_name() -> None:
    with Flow("f") as flow:
        old = Parameter("n", default=1)
        out = inc(old)
    new = Parameter("n", default=100)
    flow.replace(old, new)
    assert flow.parameters() == {"n": new}
    assert flow.run_sync().result[out].result == 101


def test_replace_of_a_task_not_in_the_flow_is_a_value_error() -> None:
    with Flow("f") as flow:
        inc(1)
    stranger = Doubler()
    with pytest.raises(ValueError, match="is not in flow 'f'"):
        flow.replace(stranger, Doubler())


def test_replace_with_a_task_that_cannot_take_the_inputs_is_a_type_error() -> None:
    with Flow("f") as flow:
        a = add(1, 2)
    with pytest.raises(TaskArgumentError, match=r"cannot take the inputs \['x', 'y'\]") as info:
        flow.replace(a, noop)
    assert isinstance(info.value, TypeError)
    assert flow.tasks == {a} and flow.constants[a] == {"x": 1, "y": 2}


def test_a_replace_that_would_make_a_cycle_leaves_the_flow_as_it_was() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        c = inc(b)
    constants = flow.constants
    before = (flow.tasks, _graph(flow), {t: dict(c) for t, c in constants.items()})
    with pytest.raises(CycleError):
        flow.replace(a, c)  # c would then feed b, which feeds c
    assert (flow.tasks, _graph(flow), constants) == before
    assert flow.run_sync().result[c].result == 4


# ---- update ----------------------------------------------------------------------------
def test_update_adds_the_other_flows_tasks_edges_and_constants() -> None:
    with Flow("one") as one:
        a = inc(1)
    with Flow("two") as two:
        b = inc(5)
        c = double(b)
    one.update(two)
    assert one.tasks == {a, b, c}
    assert one.upstream_tasks(c) == {b}
    state = one.run_sync()
    assert (state.result[a].result, state.result[c].result) == (2, 12)


def test_update_gives_clashing_generated_slugs_new_ones() -> None:
    with Flow("one") as one:
        a = inc(1)
    with Flow("two") as two:
        b = inc(2)
    assert a.slug == b.slug == "inc-1"
    one.update(two)
    assert a.slug == "inc-1" and b.slug == "inc-2"
    assert one.get_tasks(slug="inc-2") == [b]
    assert two.get_tasks(slug="inc-2") == [b]  # the other flow still finds its task
    assert two.add_task(inc.copy()).slug == "inc-3"  # and names new tasks without a clash


def test_update_refuses_clashing_chosen_slugs() -> None:
    one = Flow("one", tasks=[inc.copy(slug="load")])
    two = Flow("two", tasks=[double.copy(slug="load")])
    with pytest.raises(FlowDefinitionError, match="slug 'load'"):
        one.update(two)
    assert len(one.tasks) == 1


def test_update_with_two_parameters_of_one_name_needs_merge_parameters() -> None:
    with Flow("one") as one:
        mine = Parameter("n", default=1)
        first = inc(mine)
    with Flow("two") as two:
        theirs = Parameter("n", default=10)
        second = double(theirs)
    with pytest.raises(ValueError, match="merge_parameters=True"):
        one.update(two)
    assert one.tasks == {mine, first}

    one.update(two, merge_parameters=True)
    assert one.parameters() == {"n": theirs}
    assert one.upstream_tasks(first) == {theirs}
    state = one.run_sync()
    assert (state.result[first].result, state.result[second].result) == (11, 20)


def test_update_takes_a_flow() -> None:
    flow = Flow("f")
    with pytest.raises(TypeError, match="takes another Flow, got list"):
        flow.update([inc])  # type: ignore[arg-type]


# ---- chain ----------------------------------------------------------------------------
def test_chain_makes_each_task_depend_on_the_one_before() -> None:
    flow = Flow("f")
    a, b, c = noop.copy(), noop.copy(), noop.copy()
    edges = flow.chain(a, b, c)
    assert [(e.upstream_task, e.downstream_task, e.key) for e in edges] == [
        (a, b, None), (b, c, None)]
    assert flow.sorted_tasks() == [a, b, c]


def test_a_chain_that_closes_a_cycle_adds_nothing() -> None:
    flow = Flow("f")
    a, b, c = noop.copy(), noop.copy(), noop.copy()
    flow.chain(a, b)
    with pytest.raises(CycleError):
        flow.chain(b, c, a)
    assert flow.tasks == {a, b} and len(flow.edges) == 1
    assert c.slug is None  # c was never kept, so it is not named after this flow


def test_chain_takes_tasks() -> None:
    flow = Flow("f")
    with pytest.raises(TaskArgumentError, match="argument 2"):
        flow.chain(noop.copy(), "load")  # type: ignore[arg-type]
    assert flow.tasks == set()


# ---- queries ---------------------------------------------------------------------------
def test_get_tasks_by_task_type() -> None:
    with Flow("f") as flow:
        p = Parameter("p")
        a = inc(p)
        d = Doubler()(a)
    assert flow.get_tasks(task_type=Parameter) == [p]
    assert flow.get_tasks(task_type=Doubler) == [d]
    assert flow.get_tasks(name="inc", task_type=Doubler) == []


def test_graph_queries_about_a_task_not_in_the_flow_are_value_errors() -> None:
    with Flow("f"):
        inc(1)
    flow = Flow("other")
    stranger = inc.copy()
    for query in (flow.edges_to, flow.edges_from, flow.upstream_tasks, flow.downstream_tasks):
        with pytest.raises(ValueError, match="is not in flow 'other'"):
            query(stranger)


def test_sorted_tasks_from_root_tasks_covers_only_what_follows_them() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        c = inc(b)
        other = inc(0)
    assert flow.sorted_tasks(root_tasks=[b]) == [b, c]
    assert flow.sorted_tasks(root_tasks=[a, other]) in ([a, b, c, other], [other, a, b, c],
                                                        [a, other, b, c], [a, b, other, c])
    assert list(flow)[-1] in {c, other}
    assert set(flow) == flow.tasks


def test_add_edge_with_validate_checks_the_flow() -> None:
    flow = Flow("f")
    a, b = noop.copy(), noop.copy()
    edge = flow.add_edge(a, b, validate=True)
    assert flow.edges_to(b) == [edge]
    flow.set_dependencies(b, upstream_tasks=[noop.copy()], validate=True)
    assert len(flow.edges_to(b)) == 2
