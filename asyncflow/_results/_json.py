"""JSONResult (alias PrefectResult): the JSON text of the value is its location.

Small JSON-able values are thus visible wherever states and locations are shown, with no
storage to configure. Parameters use it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from typing_extensions import Self

from .._core._exceptions import SerializationError
from .._serializers._base import Serializer
from .._serializers._json import DateTimeSerializer, JSONSerializer
from ._base import Result
from ._location import Location


class JSONResult(Result):
    """Keeps the value as JSON text in ``location`` (``write(3)`` gives ``location == "3"``).

    ``serializer`` must be a :class:`~asyncflow.serializers.JSONSerializer` (the default)
    or a :class:`~asyncflow.serializers.DateTimeSerializer`. Keep values small: the whole
    text travels with the state.
    """

    __slots__ = ()

    persists: ClassVar[bool] = True

    def __init__(
        self, value: Any = None, location: Location = None, serializer: Serializer | None = None
    ) -> None:
        if serializer is None:
            serializer = _JSON
        elif not isinstance(serializer, (JSONSerializer, DateTimeSerializer)):
            raise TypeError(
                f"{type(self).__name__} stores its value as text in the location, so it takes "
                f"only JSONSerializer or DateTimeSerializer, got {serializer!r}; use "
                "LocalResult (or another storage Result) for other serializers"
            )
        super().__init__(value, location, serializer)

    def format(self, **kwargs: Any) -> Self:
        """A copy: the location is the value's JSON text, so there is no template to fill."""
        return self.copy()

    async def write(self, value: Any, **kwargs: Any) -> Self:
        """A new JSONResult whose location is the JSON text of ``value``."""
        data = self._serialize(value, "<the JSON text itself>")
        new = self.copy()
        new.value = value
        new.location = data.decode("utf-8")
        return new

    async def read(self, location: str) -> Self:
        """A new JSONResult whose value is parsed from ``location``, the JSON text."""
        new = self.copy()
        new.value = self._deserialize(_encode(location), location)
        new.location = location
        return new

    async def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether ``location`` parses: the value is stored in the location itself."""
        try:
            self.serializer.deserialize(_encode(location))
        except Exception:
            return False
        return True

    def _serialize(self, value: Any, location: Any) -> bytes:
        try:
            return super()._serialize(value, location)
        except SerializationError as exc:
            raise SerializationError(
                f"{type(self).__name__} stores only values its serializer turns into text: "
                f"{exc.__cause__}. Use LocalResult (pickle) for a {type(value).__name__}, "
                "or return a JSON-able value (dict, list, str, number, bool, None)"
            ) from exc.__cause__


def _encode(location: Any) -> bytes:
    if isinstance(location, (bytes, bytearray)):
        return bytes(location)
    return str(location).encode("utf-8")


_JSON = JSONSerializer()

#: The Prefect 1.x name of :class:`JSONResult`.
PrefectResult = JSONResult
