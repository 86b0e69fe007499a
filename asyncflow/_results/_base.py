"""The Result base class: a value, where it is stored, and how to store it.

Every task state holds a :class:`Result`. The base class keeps the value in memory only;
persisting subclasses (:class:`~asyncflow.results.LocalResult`,
:class:`~asyncflow.results.JSONResult`, S3, GCS) implement the async ``write``, ``read``
and ``exists`` against a storage backend. ``write`` and ``read`` never change the Result
they are called on: they return a new one carrying the value and the final location.

Writing a subclass::

    class MyResult(Result):
        persists = True

        async def write(self, value, **kwargs):
            new = self.format(**kwargs)
            data = await anyio.to_thread.run_sync(new._serialize, value, new.location)
            ...  # store data at new.location
            new.value = value
            return new

        async def read(self, location):
            data = ...  # fetch the bytes
            new = self.copy()
            new.location = location
            new.value = new._deserialize(data, location)
            return new

        async def exists(self, location, **kwargs):
            ...

``_serialize``/``_deserialize`` turn serializer failures into
:class:`~asyncflow.exceptions.SerializationError` naming the Result and the location.
"""

from __future__ import annotations

import reprlib
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

from typing_extensions import Self

from .._core._exceptions import ResultReadError, SerializationError, TamperedResultError
from .._core._state import ResultInterface
from .._serializers._base import Serializer
from .._serializers._pickle import PickleSerializer
from ._location import Location, default_location, format_location

_UNSET: Any = object()

#: Shared by every Result created without a serializer (PickleSerializer keeps no state).
DEFAULT_SERIALIZER: Serializer = PickleSerializer()


class Result(ResultInterface):
    """A value and, for persisting subclasses, where and how it is stored.

    ``location`` is a :meth:`str.format` template, a callable ``fn(**kwargs) -> str`` or
    None (then :attr:`default_location` is used when the value is written).
    ``serializer`` turns the value into bytes; it defaults to a
    :class:`~asyncflow.serializers.PickleSerializer`.
    """

    __slots__ = ("location", "serializer", "value")

    #: Whether ``write`` stores the value outside the process (checkpointing and targets
    #: need a persisting Result).
    persists: ClassVar[bool] = False
    _slot_names: ClassVar[tuple[str, ...]] = ("value", "location", "serializer")

    value: Any
    location: Location
    serializer: Serializer

    def __init__(
        self, value: Any = None, location: Location = None, serializer: Serializer | None = None
    ) -> None:
        self.value = value
        self.location = location
        self.serializer = DEFAULT_SERIALIZER if serializer is None else serializer

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__slots__", ()):
                if name not in ("__dict__", "__weakref__") and name not in names:
                    names.append(name)
        cls._slot_names = tuple(names)

    # ---- copies and locations -------------------------------------------------------
    def copy(self) -> Self:
        """A shallow copy (the value itself is shared, not copied)."""
        cls = type(self)
        new = cls.__new__(cls)
        for name in cls._slot_names:
            value = getattr(self, name, _UNSET)
            if value is not _UNSET:
                object.__setattr__(new, name, value)
        state = getattr(self, "__dict__", None)
        if state:
            new.__dict__.update(state)
        return new

    @property
    def default_location(self) -> str:
        """Where a value goes when no location was given: ``YYYY/MM/DD/<uuid4>.asyncflow_result``."""
        return default_location()

    def format(self, **kwargs: Any) -> Self:
        """A copy whose location is filled in from ``kwargs`` (or is the default location)."""
        new = self.copy()
        location = self.location
        new.location = (
            self.default_location if location is None else self._format_location(location, kwargs)
        )
        return new

    def _format_location(self, location: str | Callable[..., str], kwargs: Any) -> str:
        """Fill in a location template or callable (subclasses add checks here)."""
        return format_location(location, kwargs, owner=self._owner())

    def _owner(self) -> str:
        return type(self).__name__

    # ---- storage ----------------------------------------------------------------------
    async def write(self, value: Any, **kwargs: Any) -> Self:
        """A new Result holding ``value`` at its final location.

        The base class only keeps the value in memory; a location template, if any, is
        filled in from ``kwargs``.
        """
        new = self.copy() if self.location is None else self.format(**kwargs)
        new.value = value
        return new

    async def read(self, location: str) -> Self:
        """A new Result whose value is read from ``location``."""
        raise ResultReadError(
            f"{self._owner()} keeps its value in memory only, so nothing can be read from "
            f"{location!r}; use a persisting Result such as LocalResult(dir=...) to read "
            "stored values"
        )

    async def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether a value is stored at ``location`` (a template filled in from ``kwargs``)."""
        return False

    async def __aenter__(self) -> Self:
        """Open whatever the Result needs for several reads and writes (nothing here)."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Release what :meth:`__aenter__` opened."""

    # ---- serialization helpers for subclasses --------------------------------------
    def _serialize(self, value: Any, location: Any) -> bytes:
        """``serializer.serialize(value)``, with failures as SerializationError."""
        try:
            data = self.serializer.serialize(value)
        except Exception as exc:
            raise self._serialization_error(value, location, exc) from exc
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SerializationError(
                f"{self._owner()}: {self.serializer!r}.serialize returned "
                f"{type(data).__name__} for location {location!r}; a serializer must return bytes"
            )
        return bytes(data) if isinstance(data, memoryview) else data

    def _deserialize(self, data: bytes, location: Any) -> Any:
        """``serializer.deserialize(data)``, with failures as SerializationError."""
        try:
            return self.serializer.deserialize(data)
        except Exception as exc:
            raise self._deserialization_error(location, exc) from exc

    def _serialization_error(self, value: Any, location: Any, exc: Exception) -> SerializationError:
        return SerializationError(
            f"{self._owner()} could not serialize a value of type {type(value).__name__} for "
            f"location {location!r} with {self.serializer!r}: {type(exc).__name__}: {exc}. "
            "Return a value this serializer supports, or give the Result another serializer="
        )

    def _deserialization_error(self, location: Any, exc: Exception) -> SerializationError:
        if isinstance(exc, TamperedResultError):
            return TamperedResultError(
                f"{self._owner()} refused the stored result at {location!r}: {exc}. Restore "
                "it from a trusted copy or write it again; check that the same key is used "
                "everywhere"
            )
        return SerializationError(
            f"{self._owner()} could not deserialize the stored result at {location!r} with "
            f"{self.serializer!r}: {type(exc).__name__}: {exc}. The stored bytes are corrupt "
            "or truncated, or were written with another serializer; write the result again "
            "or read it with the serializer that wrote it"
        )

    # ---- display and legacy ----------------------------------------------------------
    @property
    def safe_value(self) -> SafeResult:
        """Deprecated: the stored location as a :class:`SafeResult`; use ``location``."""
        warnings.warn(
            "Result.safe_value is deprecated; use Result.location, which holds the same "
            "stored location",
            DeprecationWarning,
            stacklevel=2,
        )
        return SafeResult(self.location)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {short_repr(self.value)}>"


class SafeResult:
    """What ``Result.safe_value`` returns: the location where the value is stored."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    @property
    def location(self) -> Any:
        return self.value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SafeResult):
            return NotImplemented
        return bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<SafeResult: {self.value!r}>"


_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200
_repr.maxlong = 200
_MAX_BYTES_SHOWN = 64


def short_repr(value: Any) -> str:
    """A repr of ``value`` that stays short even for large strings, bytes and containers."""
    if isinstance(value, (bytes, bytearray)) and len(value) > _MAX_BYTES_SHOWN:
        return f"{bytes(value[:_MAX_BYTES_SHOWN])!r}... ({len(value)} bytes)"
    return _repr.repr(value)
