from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncflow._core._exceptions import (
    FlowDefinitionError,
    ResultError,
    ResultNotFoundError,
    ResultWriteError,
)
from asyncflow._core._options import convert_result_handler
from asyncflow.result_handlers import (
    GCSResultHandler,
    JSONResultHandler,
    LocalResultHandler,
    ResultHandler,
    ResultHandlerResult,
    S3ResultHandler,
    result_from_handler,
)
from asyncflow.results import JSONResult, LocalResult, Result

pytestmark = pytest.mark.anyio


class DictHandler(ResultHandler):
    def __init__(self) -> None:
        self.store: dict[str, Any] = {}

    def write(self, result: Any) -> str:
        key = f"key-{len(self.store)}"
        self.store[key] = result
        return key

    def read(self, key: Any) -> Any:
        return self.store[key]


class AsyncDictHandler(DictHandler):
    async def write(self, result: Any) -> str:  # type: ignore[override]
        return super().write(result)

    async def read(self, key: Any) -> Any:
        return super().read(key)


class BrokenHandler(DictHandler):
    def write(self, result: Any) -> str:
        raise OSError("storage offline")


def test_local_handler_converts_to_local_result_with_its_dir(tmp_path: Path) -> None:
    result = result_from_handler(LocalResultHandler(tmp_path))
    assert type(result) is LocalResult
    assert result.dir == str(tmp_path)


def test_json_handler_converts_to_json_result() -> None:
    assert type(result_from_handler(JSONResultHandler())) is JSONResult


@pytest.fixture
def fake_storage_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for module, name in (("_s3", "S3Result"), ("_gcs", "GCSResult")):
        fake = types.ModuleType(f"asyncflow._results.{module}")

        class Stored(Result):
            persists = True

            def __init__(self, bucket: str) -> None:
                super().__init__()
                self.bucket = bucket

        Stored.__name__ = name
        setattr(fake, name, Stored)
        monkeypatch.setitem(sys.modules, f"asyncflow._results.{module}", fake)
    yield


@pytest.mark.usefixtures("fake_storage_modules")
def test_bucket_handlers_convert_to_bucket_results() -> None:
    s3 = result_from_handler(S3ResultHandler(bucket="models"))
    gcs = result_from_handler(GCSResultHandler(bucket="prefect_results"))
    assert (type(s3).__name__, getattr(s3, "bucket", None)) == ("S3Result", "models")
    assert (type(gcs).__name__, getattr(gcs, "bucket", None)) == ("GCSResult", "prefect_results")


@pytest.mark.parametrize(
    ("handler", "module"),
    [(S3ResultHandler(bucket="b"), "_s3"), (GCSResultHandler(bucket="b"), "_gcs")],
)
def test_a_missing_storage_module_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, handler: ResultHandler, module: str
) -> None:
    monkeypatch.setitem(sys.modules, f"asyncflow._results.{module}", None)
    with pytest.raises(ResultError, match="does not include"):
        result_from_handler(handler)


def test_bucket_handlers_point_to_the_results_when_used_directly() -> None:
    with pytest.raises(ResultError, match=r"asyncflow\.results\.S3Result\(bucket='b'\)"):
        S3ResultHandler(bucket="b").write(1)
    with pytest.raises(ResultError, match="GCSResult"):
        GCSResultHandler(bucket="b").read("key")


def test_a_custom_handler_is_wrapped() -> None:
    handler = DictHandler()
    result = result_from_handler(handler)
    assert isinstance(result, ResultHandlerResult)
    assert result.handler is handler
    assert result.persists


@pytest.mark.parametrize("handler_class", [DictHandler, AsyncDictHandler])
async def test_a_wrapped_handler_writes_and_reads_through_the_handler(
    handler_class: type[DictHandler],
) -> None:
    handler = handler_class()
    result = result_from_handler(handler)
    written = await result.write({"x": 1})
    assert written.location == "key-0"
    assert handler.store == {"key-0": {"x": 1}}
    assert (await result.read("key-0")).value == {"x": 1}
    assert await result.exists("key-0")
    assert not await result.exists("key-9")


async def test_a_wrapped_handler_maps_errors() -> None:
    with pytest.raises(ResultWriteError, match="storage offline"):
        await result_from_handler(BrokenHandler()).write(1)
    with pytest.raises(ResultNotFoundError, match="'nope'"):
        await result_from_handler(DictHandler()).read("nope")


def test_a_result_is_returned_as_it_is() -> None:
    result = JSONResult()
    assert result_from_handler(result) is result


def test_something_else_is_a_definition_error() -> None:
    with pytest.raises(FlowDefinitionError, match="must be a ResultHandler"):
        result_from_handler("local")  # type: ignore[arg-type]


def test_local_handler_writes_and_reads_pickles(tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=tmp_path)
    key = handler.write([1, 2])
    assert key.startswith(str(tmp_path))
    assert handler.read(key) == [1, 2]


def test_json_handler_key_is_the_json_text() -> None:
    handler = JSONResultHandler()
    assert handler.write({"a": 1}) == json.dumps({"a": 1})
    assert handler.read("3") == 3


def test_result_handler_argument_warns_and_converts(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning, match="result_handler= is deprecated"):
        result = convert_result_handler(None, LocalResultHandler(tmp_path), "Task 'add'")
    assert isinstance(result, LocalResult)
    assert result.dir == str(tmp_path)
