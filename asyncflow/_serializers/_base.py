"""The Serializer interface: ``serialize(value) -> bytes`` and ``deserialize(bytes) -> Any``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Serializer(ABC):
    """Turns a Python value into bytes and recovers it from those bytes.

    A custom serializer is a plain subclass::

        class MySerializer(Serializer):
            def serialize(self, value: Any) -> bytes: ...
            def deserialize(self, value: bytes) -> Any: ...

    Serializers may be called from worker threads, so they should keep no mutable state.
    Two serializers compare equal when they are of the same type with the same settings.
    """

    @abstractmethod
    def serialize(self, value: Any) -> bytes:
        """The bytes that represent ``value``."""

    @abstractmethod
    def deserialize(self, value: bytes) -> Any:
        """The value that ``value`` (bytes made by :meth:`serialize`) represents."""

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
