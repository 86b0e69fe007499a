"""DateTimeParameter: a flow input that is a date and time, given as ISO 8601 text."""

from __future__ import annotations

import datetime
from typing import Any

from ._core._exceptions import FlowDefinitionError, ParameterError
from ._core._parameter import _UNSET, Parameter
from ._serializers._json import DateTimeSerializer


class DateTimeParameter(Parameter):
    """A Parameter whose value is a :class:`datetime.datetime`.

    A string value is read as ISO 8601 (``"2024-05-01T12:00:00+02:00"``, ``"...Z"``,
    ``"2024-05-01"``) and one without a timezone is taken as UTC, as Prefect 1.x does; a
    ``datetime`` is used as given and a ``date`` is its midnight UTC. Without ``default``
    the parameter is required; ``required=False`` makes it optional with the value
    ``None``. A value that cannot be read fails the run when it starts
    (:class:`~asyncflow.ParameterError` naming the parameter), before any task runs.
    """

    __slots__ = ()

    def __init__(self, name: str, default: Any = _UNSET, required: bool | None = None,
                 **options: Any) -> None:
        if default is not _UNSET and default is not None:
            try:
                to_datetime(default, f"the default of DateTimeParameter {name!r}")
            except ParameterError as exc:
                raise FlowDefinitionError(str(exc)) from None
        if "result" not in options:
            from ._results._json import JSONResult

            options["result"] = JSONResult(serializer=_DateTimeOrNone())
        super().__init__(name, default, required, **options)

    def check_value(self, value: Any) -> None:
        if value is None and self.required:
            raise ParameterError(
                f"parameter {self.name!r} is required, so it cannot be None; pass a date "
                "and time such as '2024-05-01T12:00:00+00:00', or declare it with "
                "required=False"
            )
        if value is not None:
            to_datetime(value, f"parameter {self.name!r}")

    def run(self) -> datetime.datetime | None:
        value = super().run()
        if value is None:
            return None
        return to_datetime(value, f"parameter {self.name!r}")

    def __repr__(self) -> str:
        return f"<DateTimeParameter: {self.name}>"


def to_datetime(value: Any, what: str) -> datetime.datetime:
    """``value`` as an aware or given datetime; :class:`ParameterError` naming ``what``."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    if not isinstance(value, str):
        raise ParameterError(
            f"{what} takes a date and time as ISO 8601 text such as "
            f"'2024-05-01T12:00:00+00:00', or a datetime; got {type(value).__name__} {value!r}"
        )
    text = value.strip()
    if text.endswith(("Z", "z")):  # fromisoformat reads "Z" only from Python 3.11
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"{what} got {value!r}, which is not an ISO 8601 date and time; write it "
            "like '2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00Z' or '2024-05-01'"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


class _DateTimeOrNone(DateTimeSerializer):
    """ISO 8601 text for a datetime, ``null`` for None: what an optional one may hold."""

    def serialize(self, value: Any) -> bytes:
        return b"null" if value is None else super().serialize(value)

    def deserialize(self, value: bytes) -> Any:
        return None if value.strip() == b"null" else super().deserialize(value)
