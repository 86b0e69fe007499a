"""Python operators on tasks build operator tasks; the flow evaluates them."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest

from asyncflow import DotDict, Edge, Flow, FlowDefinitionError, Parameter, Task, task
from asyncflow.results import LocalResult
from asyncflow.states import Failed
from asyncflow.tasks import (
    Add,
    And,
    Constant,
    Div,
    Equal,
    FloorDiv,
    GetAttr,
    GetItem,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    Mod,
    Mul,
    Not,
    NotEqual,
    Or,
    Pow,
    Sub,
)

pytestmark = pytest.mark.anyio


async def evaluate(flow: Flow, target: Task[Any], **parameters: Any) -> Any:
    state = await flow.run(parameters=parameters)
    return state.result[target].result


BINARY = [
    (operator.add, Add, 7, 2, 9),
    (operator.sub, Sub, 7, 2, 5),
    (operator.mul, Mul, 7, 2, 14),
    (operator.truediv, Div, 7, 2, 3.5),
    (operator.floordiv, FloorDiv, 7, 2, 3),
    (operator.pow, Pow, 7, 2, 49),
    (operator.mod, Mod, 7, 2, 1),
    (operator.and_, And, True, False, False),
    (operator.gt, GreaterThan, 7, 2, True),
    (operator.ge, GreaterThanOrEqual, 2, 2, True),
    (operator.lt, LessThan, 7, 2, False),
    (operator.le, LessThanOrEqual, 2, 7, True),
]
IDS = [cls.__name__ for _, cls, *_ in BINARY]


@pytest.mark.parametrize(("op", "cls", "x", "y", "expected"), BINARY, ids=IDS)
async def test_an_operator_between_two_tasks(op: Callable[[Any, Any], Task[Any]], cls: type,
                                             x: Any, y: Any, expected: Any) -> None:
    with Flow("maths") as flow:
        z = op(Parameter("x"), Parameter("y"))
    assert type(z) is cls
    assert await evaluate(flow, z, x=x, y=y) == expected


@pytest.mark.parametrize(("op", "cls", "x", "y", "expected"), BINARY, ids=IDS)
async def test_an_operator_with_a_constant_on_the_right(
    op: Callable[[Any, Any], Any], cls: type, x: Any, y: Any, expected: Any
) -> None:
    with Flow("maths") as flow:
        z = op(Parameter("x"), y)
    assert await evaluate(flow, z, x=x) == expected
    assert flow.constants[z] == {"y": y}


@pytest.mark.parametrize(("op", "cls", "x", "y", "expected"), BINARY, ids=IDS)
async def test_an_operator_with_a_constant_on_the_left(
    op: Callable[[Any, Any], Any], cls: type, x: Any, y: Any, expected: Any
) -> None:
    with Flow("maths") as flow:
        z = op(x, Parameter("y"))  # int.__add__ declines, so Task.__radd__ (etc.) answers
    assert await evaluate(flow, z, y=y) == expected


async def test_right_hand_and_with_a_boolean() -> None:
    with Flow("logic") as flow:
        z = True & Parameter("x")
    assert await evaluate(flow, z, x=False) is False
    assert await evaluate(flow, z, x=True) is True


async def test_and_gives_the_python_and_of_the_values() -> None:
    with Flow("logic") as flow:
        z = Parameter("x") & Parameter("y")
    assert await evaluate(flow, z, x=0, y="text") == 0
    assert await evaluate(flow, z, x=3, y="text") == "text"


@pytest.mark.parametrize(("x", "y", "equal"), [(5, 5, True), (5, 2, False)])
async def test_is_equal_and_is_not_equal(x: int, y: int, equal: bool) -> None:
    with Flow("compare") as flow:
        px, py = Parameter("x"), Parameter("y")
        same = px.is_equal(py)
        different = px.is_not_equal(py)
    state = await flow.run(parameters={"x": x, "y": y})
    assert (type(same), type(different)) == (Equal, NotEqual)
    assert state.result[same].result is equal
    assert state.result[different].result is not equal


@pytest.mark.parametrize(("x", "expected"), [(True, False), (0, True), ([1], False)])
async def test_not_(x: Any, expected: bool) -> None:
    with Flow("logic") as flow:
        z = Parameter("x").not_()
    assert type(z) is Not
    assert await evaluate(flow, z, x=x) is expected


@pytest.mark.parametrize(("x", "y", "expected"), [(True, False, True), (0, "b", "b"),
                                                  (False, 0, 0)])
async def test_or_(x: Any, y: Any, expected: Any) -> None:
    with Flow("logic") as flow:
        z = Parameter("x").or_(y)
    assert type(z) is Or
    assert await evaluate(flow, z, x=x) == expected


async def test_operators_chain_into_expressions() -> None:
    with Flow("maths") as flow:
        x = Parameter("x")
        z = (x + 1) * 2 - x // 3
    assert await evaluate(flow, z, x=9) == 17


async def test_an_operator_on_a_task_result() -> None:
    @task
    def numbers() -> list[int]:
        return [3, 4]

    with Flow("maths") as flow:
        pair = numbers()
        total = pair[0] + pair[1]
    assert await evaluate(flow, total) == 7


async def test_a_failing_operator_ends_failed_with_the_error() -> None:
    with Flow("maths") as flow:
        z = Parameter("x") / 0
    state = await flow.run(parameters={"x": 1})
    assert isinstance(state.result[z], Failed)
    assert isinstance(state.result[z].result, ZeroDivisionError)


# ---- equality and hashing stay the tasks' own ---------------------------------------
def test_tasks_compare_equal_only_to_themselves_and_stay_hashable() -> None:
    a, b = Task(), Task()
    assert a == a and a != b
    assert {a: 1, b: 2}[a] == 1
    assert len({a, b, a}) == 2


def test_a_task_is_not_iterable() -> None:
    with Flow("f"), pytest.raises(TypeError, match=r"not iterable.*x\[0\]"):
        list(Parameter("x"))


# ---- indexing ------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "key", "expected"),
                         [([1, 2, 3], 1, 2), ({"a": 1, "b": 2}, "b", 2)])
async def test_getitem_with_a_task_key(value: Any, key: Any, expected: Any) -> None:
    with Flow("index") as flow:
        z = Parameter("x")[Parameter("y")]
    assert type(z) is GetItem
    assert await evaluate(flow, z, x=value, y=key) == expected


async def test_getitem_with_a_constant_key() -> None:
    with Flow("index") as flow:
        z = Parameter("x")["b"]
    assert await evaluate(flow, z, x={"a": 1, "b": 2}) == 2


def test_getitem_names_show_the_key() -> None:
    with Flow("index"):
        assert Parameter("x")[0].name == "x[0]"
        assert Parameter("y")["a"].name == "y['a']"
        assert Parameter("z")[Parameter("a")].name == "z[a]"


def test_getitem_keeps_the_checkpoint_and_result_of_the_indexed_task(tmp_path: Any) -> None:
    result = LocalResult(dir=str(tmp_path / "home"))
    with Flow("index"):
        z = Task(checkpoint=False)()[0]
        y = Task(checkpoint=True, result=result)[1]
    assert z.checkpoint is False
    assert y.checkpoint is True
    assert y.result is result


async def test_getitem_default_for_a_missing_key_or_index() -> None:
    with Flow("index") as flow:
        x = Parameter("x")
        by_key = GetItem(default="none")(x, "missing")
        at_call = GetItem()(Parameter("items"), 5, default=0)
    state = await flow.run(parameters={"x": {"a": 1}, "items": [1, 2]})
    assert state.result[by_key].result == "none"
    assert state.result[at_call].result == 0


async def test_getitem_without_default_fails_with_the_key_error() -> None:
    with Flow("index") as flow:
        z = Parameter("x")["missing"]
    state = await flow.run(parameters={"x": {"a": 1}})
    assert isinstance(state.result[z].result, KeyError)


# ---- attributes ---------------------------------------------------------------------
async def test_getattr_with_a_constant_name() -> None:
    with Flow("attrs") as flow:
        z = GetAttr()(Parameter("x"), "b")
    assert await evaluate(flow, z, x=DotDict(a=1, b=2)) == 2


async def test_getattr_nested_dotted_name() -> None:
    with Flow("attrs") as flow:
        z = GetAttr()(Parameter("x"), "a.b.c")
    assert await evaluate(flow, z, x=DotDict(a=DotDict(b=DotDict(c=1)))) == 1


async def test_getattr_name_from_another_task() -> None:
    with Flow("attrs") as flow:
        z = GetAttr()(Parameter("x"), Parameter("name"))
    assert await evaluate(flow, z, x=DotDict(a=1, b=2), name="a") == 1


async def test_getattr_defaults_from_the_task_and_from_the_call() -> None:
    with Flow("attrs") as flow:
        x = Parameter("x")
        own = GetAttr(default="foo")(x, "missing")
        positional = GetAttr()(x, "missing", "bar")
        keyword = GetAttr()(x, "missing", default="baz")
        overridden = GetAttr(default="foo")(x, "missing", default="call wins")
        present = GetAttr(default="foo")(x, "a")
    state = await flow.run(parameters={"x": DotDict(a=1)})
    values = [state.result[t].result for t in (own, positional, keyword, overridden, present)]
    assert values == ["foo", "bar", "baz", "call wins", 1]


async def test_getattr_a_default_of_none_is_a_default() -> None:
    with Flow("attrs") as flow:
        z = GetAttr(default=None)(Parameter("x"), "missing")
    state = await flow.run(parameters={"x": DotDict()})
    assert state.result[z].is_successful()
    assert state.result[z].result is None


async def test_getattr_missing_attribute_fails_with_the_attribute_error() -> None:
    with Flow("attrs") as flow:
        z = GetAttr()(Parameter("x"), "missing")
    state = await flow.run(parameters={"x": DotDict(a=1)})
    assert isinstance(state.result[z], Failed)
    assert isinstance(state.result[z].result, AttributeError)
    assert not state.is_successful()


def test_getattr_keeps_task_options(tmp_path: Any) -> None:
    with Flow("attrs"):
        p = Parameter("p")
        z = GetAttr(checkpoint=False)(p, "foo")
        y = GetAttr(checkpoint=True, result=LocalResult(dir=str(tmp_path / "home")))(p, "bar")
    assert z.checkpoint is False
    assert isinstance(y.result, LocalResult)


def test_getattr_default_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        GetAttr("foo")  # type: ignore[call-arg]


# ---- | orders tasks -------------------------------------------------------------------
def test_pipe_makes_a_state_edge_and_returns_the_right_task() -> None:
    with Flow("order") as flow:
        t1, t2 = Task("t1"), Task("t2")
        returned = t1 | t2
    assert returned is t2
    assert flow.edges == {Edge(t1, t2)}


def test_pipe_chains() -> None:
    with Flow("order") as flow:
        t1, t2, t3, t4 = (Task(f"t{i}") for i in range(1, 5))
        t1 | t2 | t3 | t4
    assert flow.edges == {Edge(t1, t2), Edge(t2, t3), Edge(t3, t4)}


async def test_pipe_with_a_constant_on_either_side_wraps_it_in_a_constant_task() -> None:
    with Flow("order") as flow:
        t1 = Task("t1")
        right = t1 | 1
        t2 = Task("t2")
        left = "go" | t2
    assert isinstance(right, Constant) and right.name == "1"
    assert left is t2
    assert len(flow.tasks) == 4
    (start,) = flow.upstream_tasks(t2)
    assert isinstance(start, Constant) and start.name == "'go'"
    state = await flow.run()
    assert state.result[right].result == 1


async def test_pipe_orders_runs() -> None:
    order: list[str] = []

    @task
    def note(name: str) -> None:
        order.append(name)

    with Flow("order") as flow:
        first = note("first")
        second = note("second")
        third = note("third")
        third | second | first
    await flow.run()
    assert order == ["third", "second", "first"]


# ---- constants ------------------------------------------------------------------------
async def test_constant_returns_its_value() -> None:
    with Flow("const") as flow:
        c = Constant([1, 2])
        doubled = c * 2
    state = await flow.run()
    assert state.result[c].result == [1, 2]
    assert state.result[doubled].result == [1, 2, 1, 2]


@pytest.mark.parametrize(("value", "name"), [(3, "3"), ("abc", "'abc'"), (None, "None"),
                                              ("a long string", "Constant[str]"),
                                              ({"key": 1}, "Constant[dict]")])
def test_constant_names(value: Any, name: str) -> None:
    assert Constant(value).name == name


def test_constant_name_can_be_given() -> None:
    assert Constant(1, name="one").name == "one"


# ---- outside a flow -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "shown"),
    [
        (lambda t: t + 1, r"`t \+ 1` builds an Add task"),
        (lambda t: 1 - t, r"`1 - t` builds a Sub task"),
        (lambda t: t > 3, r"`t > 3` builds a GreaterThan task"),
        (lambda t: t[0], r"`t\[0\]` builds a GetItem task"),
        (lambda t: t.is_equal(2), r"`t.is_equal\(2\)` builds an Equal task"),
        (lambda t: t.not_(), r"`t.not_\(\)` builds a Not task"),
        (lambda t: t | Task("u"), r"`t \| u` builds an edge"),
        (lambda t: 1 | t, r"`1 \| t` builds an edge"),
    ],
)
def test_operators_outside_a_flow_name_the_fix(build: Callable[[Task[Any]], Any],
                                              shown: str) -> None:
    with pytest.raises(FlowDefinitionError, match=shown) as info:
        build(Task("t"))
    assert "with Flow('name') as flow:" in str(info.value)
