"""JSONSerializer and DateTimeSerializer: text formats a person can read."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from ._base import Serializer


class JSONSerializer(Serializer):
    """Serializes with :func:`json.dumps` (UTF-8); ``dumps_kwargs``/``loads_kwargs`` pass through."""

    def __init__(
        self,
        *,
        dumps_kwargs: Mapping[str, Any] | None = None,
        loads_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.dumps_kwargs = dict(dumps_kwargs or {})
        self.loads_kwargs = dict(loads_kwargs or {})

    def serialize(self, value: Any) -> bytes:
        return json.dumps(value, **self.dumps_kwargs).encode("utf-8")

    def deserialize(self, value: bytes) -> Any:
        return json.loads(value.decode("utf-8"), **self.loads_kwargs)

    def __repr__(self) -> str:
        options = []
        if self.dumps_kwargs:
            options.append(f"dumps_kwargs={self.dumps_kwargs!r}")
        if self.loads_kwargs:
            options.append(f"loads_kwargs={self.loads_kwargs!r}")
        return f"JSONSerializer({', '.join(options)})"


class DateTimeSerializer(Serializer):
    """Serializes a :class:`datetime.datetime` as ISO 8601 text (``2024-05-01T12:00:00+00:00``)."""

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, datetime.datetime):
            raise TypeError(
                f"DateTimeSerializer serializes datetime.datetime values, got "
                f"{type(value).__name__}; use JSONSerializer or PickleSerializer for other values"
            )
        return value.isoformat().encode("ascii")

    def deserialize(self, value: bytes) -> Any:
        text = value.decode("ascii").strip()
        if text.endswith(("Z", "z")):  # fromisoformat accepts "Z" only from Python 3.11
            text = text[:-1] + "+00:00"
        return datetime.datetime.fromisoformat(text)
