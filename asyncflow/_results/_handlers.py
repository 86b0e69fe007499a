"""Legacy result handlers (Prefect < 0.11) and their conversion to Results.

A handler's ``write(value)`` stores a value and returns a key; ``read(key)`` returns the
value. ``result_handler=`` on a Task or Flow is deprecated: the engine warns and converts
the handler with :func:`result_from_handler`, so old flows keep running.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import anyio.to_thread
from typing_extensions import Self

from .._core._exceptions import (
    FlowDefinitionError,
    MissingExtraError,
    ResultError,
    ResultNotFoundError,
    ResultReadError,
    ResultWriteError,
)
from ._base import Result
from ._json import JSONResult
from ._local import LocalResult, _read_value, _write_value
from ._location import local_default_location


class ResultHandler(ABC):
    """Deprecated: stores values and returns keys. Use a :class:`~asyncflow.results.Result`.

    Subclasses implement ``write(value) -> key`` and ``read(key) -> value``; either may be
    sync (run in a worker thread) or ``async``.
    """

    @abstractmethod
    def write(self, result: Any) -> Any:
        """Store ``result`` and return the key (JSON-able, usually a str) to read it back."""

    @abstractmethod
    def read(self, key: Any) -> Any:
        """The value stored under ``key``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class LocalResultHandler(ResultHandler):
    """Deprecated: pickles values into files under ``dir``; use ``LocalResult(dir)``."""

    def __init__(
        self,
        dir: str | os.PathLike[str] | None = None,  # noqa: A002 - the documented keyword
        validate: bool = True,
    ) -> None:
        self._result = LocalResult(dir, validate_dir=validate)
        self.dir = self._result.dir
        self.validate = validate

    def write(self, result: Any) -> str:
        path = self._result.path_of(local_default_location())
        _write_value(self._result, result, path)
        return path

    def read(self, key: Any) -> Any:
        return _read_value(self._result, self._result.path_of(key))

    def __repr__(self) -> str:
        return f"<LocalResultHandler: dir={self.dir!r}>"


class JSONResultHandler(ResultHandler):
    """Deprecated: the key is the JSON text of the value; use ``JSONResult()``."""

    def write(self, result: Any) -> str:
        return json.dumps(result)

    def read(self, key: Any) -> Any:
        return json.loads(key)


class _BucketHandler(ResultHandler):
    _result_class: ClassVar[str] = ""

    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket

    def _unsupported(self) -> ResultError:
        return ResultError(
            f"{type(self).__name__} only converts to {self._result_class} when passed as "
            f"result_handler=; to store values directly use "
            f"asyncflow.results.{self._result_class}(bucket={self.bucket!r}) and its async "
            "write/read"
        )

    def write(self, result: Any) -> Any:
        raise self._unsupported()

    def read(self, key: Any) -> Any:
        raise self._unsupported()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: bucket={self.bucket!r}>"


class S3ResultHandler(_BucketHandler):
    """Deprecated: converts to ``S3Result(bucket)``."""

    _result_class = "S3Result"


class GCSResultHandler(_BucketHandler):
    """Deprecated: converts to ``GCSResult(bucket)``."""

    _result_class = "GCSResult"


class ResultHandlerResult(Result):
    """Wraps a custom :class:`ResultHandler`: ``write``/``read`` delegate to it.

    The handler chooses the key, which becomes the location. ``exists`` reads the value,
    since a handler has no cheaper way to tell.
    """

    __slots__ = ("handler",)

    persists: ClassVar[bool] = True

    handler: ResultHandler

    def __init__(self, handler: ResultHandler, *, value: Any = None) -> None:
        super().__init__(value)
        self.handler = handler

    def format(self, **kwargs: Any) -> Self:
        """A copy: the handler chooses the key when it writes."""
        return self.copy()

    async def write(self, value: Any, **kwargs: Any) -> Self:
        try:
            key = await _call(self.handler.write, value)
        except ResultError:
            raise
        except Exception as exc:
            raise ResultWriteError(
                f"{self.handler!r}.write failed for a value of type {type(value).__name__}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        new = self.copy()
        new.value = value
        new.location = key
        return new

    async def read(self, location: Any) -> Self:
        try:
            value = await _call(self.handler.read, location)
        except ResultError:
            raise
        except (LookupError, FileNotFoundError) as exc:
            raise ResultNotFoundError(
                f"{self.handler!r} has no stored result under {location!r}: {exc}"
            ) from exc
        except Exception as exc:
            raise ResultReadError(
                f"{self.handler!r}.read failed for {location!r}: {type(exc).__name__}: {exc}"
            ) from exc
        new = self.copy()
        new.value = value
        new.location = location
        return new

    async def exists(self, location: Any, **kwargs: Any) -> bool:
        try:
            await self.read(location)
        except ResultNotFoundError:
            return False
        return True


async def _call(method: Any, argument: Any) -> Any:
    if inspect.iscoroutinefunction(method):
        return await method(argument)
    return await anyio.to_thread.run_sync(method, argument)


def result_from_handler(handler: ResultHandler | Result) -> Result:
    """The Result that does what ``handler`` did.

    ``LocalResultHandler(dir)`` -> ``LocalResult(dir)``, ``JSONResultHandler()`` ->
    ``JSONResult()``, ``S3ResultHandler(bucket)`` -> ``S3Result(bucket=bucket)``,
    ``GCSResultHandler(bucket)`` -> ``GCSResult(bucket=bucket)``; any other handler is
    wrapped in a :class:`ResultHandlerResult`. A Result is returned as it is. This
    function does not warn: ``result_handler=`` on a Task or Flow does.
    """
    if isinstance(handler, Result):
        return handler
    if isinstance(handler, LocalResultHandler):
        return LocalResult(handler.dir, validate_dir=handler.validate)
    if isinstance(handler, JSONResultHandler):
        return JSONResult()
    if isinstance(handler, S3ResultHandler):
        return _storage_result("_s3", "S3Result", "s3", handler)
    if isinstance(handler, GCSResultHandler):
        return _storage_result("_gcs", "GCSResult", "gcs", handler)
    if isinstance(handler, ResultHandler):
        return ResultHandlerResult(handler)
    raise FlowDefinitionError(
        f"result_handler must be a ResultHandler, got {handler!r}; better, pass "
        "result= a Result such as LocalResult(dir=...)"
    )


def _storage_result(module: str, class_name: str, extra: str, handler: _BucketHandler) -> Result:
    full_name = f"{__package__}.{module}"
    try:
        found = importlib.import_module(full_name)
    except ModuleNotFoundError as exc:
        if exc.name == full_name:
            raise ResultError(
                f"{type(handler).__name__}(bucket={handler.bucket!r}) converts to "
                f"{class_name}, which this installation of asyncflow does not include "
                f"({full_name} is missing). Upgrade asyncflow, or pass result= another "
                "Result such as LocalResult(dir=...)"
            ) from None
        raise MissingExtraError(class_name, extra, exc.name or module) from exc
    result_class = getattr(found, class_name)
    result: Result = result_class(bucket=handler.bucket)
    return result
