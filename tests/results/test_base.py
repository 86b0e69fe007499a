from __future__ import annotations

import pickle
import warnings
from typing import Any

import pytest

from asyncflow._core._exceptions import ResultReadError
from asyncflow.results import JSONResult, LocalResult, Result, SafeResult
from asyncflow.serializers import JSONSerializer, PickleSerializer

pytestmark = pytest.mark.anyio


def test_defaults() -> None:
    result = Result()
    assert result.value is None
    assert result.location is None
    assert result.serializer == PickleSerializer()
    assert Result.persists is False


def test_repr_shows_the_value() -> None:
    assert repr(Result(1)) == "<Result: 1>"
    assert repr(Result({"a": 1})) == "<Result: {'a': 1}>"


def test_repr_of_a_large_value_stays_short() -> None:
    assert len(repr(Result(b"x" * 10_000_000))) < 200
    assert len(repr(Result("y" * 10_000))) < 300


def test_copy_is_shallow_and_independent() -> None:
    value = [1, 2]
    result = Result(value, location="a", serializer=JSONSerializer())
    other = result.copy()
    other.location = "b"
    assert other.value is value
    assert other.serializer == JSONSerializer()
    assert result.location == "a"


class TaggedResult(Result):
    """A user subclass without __slots__: its own attributes must survive copy()."""

    def __init__(self, tag: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag = tag


def test_copy_keeps_attributes_of_subclasses_without_slots() -> None:
    other = TaggedResult("t", value=1).copy()
    assert other.tag == "t"
    assert other.value == 1
    assert type(other) is TaggedResult


def test_results_pickle() -> None:
    other = pickle.loads(pickle.dumps(Result(5, location="x")))
    assert (other.value, other.location) == (5, "x")


async def test_write_keeps_the_value_in_memory_and_returns_a_new_result() -> None:
    result = Result()
    written = await result.write(3)
    assert written.value == 3
    assert written.location is None
    assert result.value is None


async def test_write_fills_in_a_template_location() -> None:
    written = await Result(location="{task_name}").write(3, task_name="t")
    assert written.location == "t"


async def test_a_plain_result_stores_nothing() -> None:
    assert not await Result().exists("anything")
    with pytest.raises(ResultReadError, match="LocalResult"):
        await Result().read("anything")


async def test_results_are_async_context_managers(tmp_path: Any) -> None:
    async with LocalResult(dir=tmp_path) as result:
        written = await result.write(1)
    assert written.value == 1


def test_safe_value_is_deprecated_and_shows_the_location() -> None:
    result = Result(3, location="2020/2/24/21120e41.prefect_result")
    with pytest.warns(DeprecationWarning, match=r"use Result\.location"):
        safe = result.safe_value
    assert repr(safe) == "<SafeResult: '2020/2/24/21120e41.prefect_result'>"
    assert safe == SafeResult("2020/2/24/21120e41.prefect_result")
    assert safe.location == "2020/2/24/21120e41.prefect_result"


async def test_safe_value_of_a_json_result_is_the_json_text() -> None:
    written = await JSONResult().write(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert repr(written.safe_value) == "<SafeResult: '3'>"


async def test_the_json_result_of_the_docs() -> None:
    written = await JSONResult().write(3)
    assert (written.value, written.location) == (3, "3")
