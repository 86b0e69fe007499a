"""The numbers, dates and words a dashboard request names, parsed and bounded where it comes in.

The databases hold ids in signed 64-bit integers and a date ends at 9999-12-31, so every
number a request names is checked against a range here, once, before any query runs: a
run or task number beyond what a database can hold names nothing (the route answers 404),
and a query value of the wrong form or out of its range raises :class:`QueryValueError`
(400) with a message that says what to send instead. Days become seconds since the epoch,
which is what the history compares, so ``until=9999-12-31`` needs no date past the last.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from .._core._exceptions import AsyncflowError

#: The last page number a list accepts; far beyond any history, and small enough that its
#: offset fits a database integer.
MAX_PAGE = 1_000_000_000
SECONDS_PER_DAY = 86_400

#: An optional sign and at most 19 ASCII digits: never more than a 64-bit integer's worth,
#: so ``int()`` is never asked to read thousands of digits.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")


class QueryValueError(AsyncflowError, ValueError):
    """A query parameter of a dashboard request has a value that cannot be used."""


def bounded_int(text: str, *, minimum: int, maximum: int) -> int | None:
    """The whole number ``text`` spells if it lies in ``minimum..maximum``; else None."""
    if _WHOLE_NUMBER.fullmatch(text) is None:
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def whole_number(
    text: str, *, label: str, minimum: int, maximum: int, what: str = "a whole number"
) -> int:
    """The whole number ``text`` spells; :class:`QueryValueError` naming ``label`` if it is
    not one or lies outside ``minimum..maximum``."""
    number = bounded_int(text.strip(), minimum=minimum, maximum=maximum)
    if number is None:
        raise QueryValueError(
            f"{label} must be {what} from {minimum} to {maximum}, not {_shown(text)}"
        )
    return number


def query_int(
    query: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int
) -> int:
    """The whole number in the query parameter ``name``; ``default`` when absent or empty."""
    text = query.get(name, "").strip()
    if not text:
        return default
    return whole_number(text, label=name, minimum=minimum, maximum=maximum)


def query_day(query: Mapping[str, str], name: str) -> datetime.date | None:
    """The day (``YYYY-MM-DD``) in the query parameter ``name``, None when absent or empty."""
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise QueryValueError(
            f"{name} must be a date such as 2024-05-31, from 0001-01-01 to 9999-12-31, "
            f"not {_shown(text)}"
        ) from None


def day_range(since: datetime.date | None, until: datetime.date | None) -> tuple[
    float | None, float | None
]:
    """Seconds since the epoch (UTC) from the start of ``since`` to the end of ``until``."""
    if since is not None and until is not None and since > until:
        raise QueryValueError(
            f"since ({since.isoformat()}) is after until ({until.isoformat()}), so no run "
            "can match; swap the two dates"
        )
    start = None if since is None else _day_start(since)
    end = None if until is None else _day_start(until) + SECONDS_PER_DAY
    return start, end


def query_text(query: Mapping[str, str], name: str) -> str:
    """The query parameter ``name``, stripped ('' when absent); refused if it holds a NUL,
    which no name or state holds and PostgreSQL cannot compare."""
    text = query.get(name, "").strip()
    if "\x00" in text:
        raise QueryValueError(f"{name} must not contain a NUL character (%00); remove it")
    return text


def _day_start(day: datetime.date) -> float:
    epoch = datetime.date(1970, 1, 1)
    return float((day - epoch).days * SECONDS_PER_DAY)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
