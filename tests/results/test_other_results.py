from __future__ import annotations

import datetime
import json

import pytest

from asyncflow._core._context import context
from asyncflow._core._exceptions import (
    ResultWriteError,
    SecretNotFoundError,
    SerializationError,
)
from asyncflow.results import ConstantResult, JSONResult, PrefectResult, SecretResult
from asyncflow.serializers import DateTimeSerializer, JSONSerializer, PickleSerializer

pytestmark = pytest.mark.anyio


# ---- JSONResult -----------------------------------------------------------------------


async def test_json_result_location_is_the_json_text() -> None:
    written = await JSONResult().write(3)
    assert written.value == 3
    assert written.location == "3"


async def test_json_result_reads_the_location() -> None:
    read = await JSONResult().read('{"a": [1, 2]}')
    assert read.value == {"a": [1, 2]}
    assert read.location == '{"a": [1, 2]}'


async def test_json_result_round_trip_of_none() -> None:
    written = await JSONResult().write(None)
    assert written.location == "null"
    assert (await JSONResult().read("null")).value is None


async def test_json_result_exists_when_the_location_parses() -> None:
    assert await JSONResult().exists("[1, 2]")
    assert not await JSONResult().exists("{not json")


async def test_json_result_write_ignores_templates_and_does_not_format_json() -> None:
    result = JSONResult(location="{task_name}")
    assert result.format(task_name="t").location == "{task_name}"
    written = await result.write({"k": "v"}, task_name="t")
    assert written.location == '{"k": "v"}'


async def test_json_result_refuses_a_non_json_value_naming_the_fix() -> None:
    with pytest.raises(SerializationError, match="Use LocalResult"):
        await JSONResult().write({1, 2})


async def test_json_result_bad_text_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="not json"):
        await JSONResult().read("not json")


async def test_json_result_with_datetime_serializer() -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    result = JSONResult(serializer=DateTimeSerializer())
    written = await result.write(moment)
    assert written.location == "2024-01-02T03:04:05+00:00"
    assert (await result.read(written.location)).value == moment


def test_json_result_refuses_other_serializers() -> None:
    with pytest.raises(TypeError, match="only JSONSerializer or DateTimeSerializer"):
        JSONResult(serializer=PickleSerializer())


def test_json_result_defaults() -> None:
    assert JSONResult.persists is True
    assert JSONResult().serializer == JSONSerializer()


def test_prefect_result_is_json_result() -> None:
    assert PrefectResult is JSONResult


# ---- ConstantResult ---------------------------------------------------------------------


async def test_constant_result_read_returns_itself() -> None:
    result = ConstantResult(value=42)
    assert await result.read("anything") is result
    assert result.value == 42


async def test_constant_result_cannot_be_written() -> None:
    with pytest.raises(ResultWriteError, match="cannot be written"):
        await ConstantResult(value=1).write(2)


async def test_constant_result_always_exists() -> None:
    assert await ConstantResult(value=1).exists("x")
    assert ConstantResult.persists is False


# ---- SecretResult -----------------------------------------------------------------------


async def test_secret_result_reads_a_named_secret_from_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__API_TOKEN", "s3cr3t")
    result = SecretResult("API_TOKEN")
    read = await result.read()
    assert read.value == "s3cr3t"
    assert result.value is None


async def test_secret_result_decodes_json_text_from_the_run_context() -> None:
    with context(secrets={"CREDS": json.dumps({"user": "u"})}):
        assert (await SecretResult("CREDS").read()).value == {"user": "u"}


async def test_secret_result_reads_a_secret_object() -> None:
    class Secret:
        def get(self) -> str:
            return "from object"

    assert (await SecretResult(Secret()).read()).value == "from object"


async def test_secret_result_reads_an_async_secret_object() -> None:
    class AsyncSecret:
        async def get(self) -> str:
            return "from async object"

    assert (await SecretResult(AsyncSecret()).read()).value == "from async object"


async def test_a_missing_secret_says_how_to_set_it() -> None:
    with pytest.raises(SecretNotFoundError, match="ASYNCFLOW__CONTEXT__SECRETS__NOPE_404"):
        await SecretResult("NOPE_404").read()
    assert not await SecretResult("NOPE_404").exists()


async def test_secret_result_never_writes() -> None:
    with pytest.raises(ResultWriteError, match="never stores"):
        await SecretResult("X").write("value")
    assert SecretResult.persists is False


async def test_secret_result_repr_hides_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__TOKEN", "hunter2")
    read = await SecretResult("TOKEN").read()
    assert read.value == "hunter2"
    assert "hunter2" not in repr(read)
    assert repr(read) == "<SecretResult: secret 'TOKEN'>"


def test_secret_result_needs_a_name_or_a_getter() -> None:
    with pytest.raises(TypeError, match="get\\(\\) method"):
        SecretResult(42)  # type: ignore[arg-type]
