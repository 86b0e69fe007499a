"""The stored form of a batch of transitions: one JSON document of columns per batch.

Recording writes a flow run's transitions in batches, and each batch is one row of
``transition_batches`` whose ``data`` is a JSON object of columns, one entry per
transition in the order they happened. Number columns are packed arrays,
``[item size in bytes, base64 of the little-endian values]``::

    {"at": [8, "..."] float64 seconds since the epoch,
     "task": [n, "..."] position in the flow's graph, -1 for the flow's own transitions,
     "map_index": [n, "..."] map index, -1 for none (the key is left out when no
                  transition of the batch has one),
     "states": [state names], "old": [n, "..."], "new": [n, "..."] (indexes into states),
     "messages": [message texts], "message": [n, "..."] (indexes into messages),
     "run_count": [n, "..."],
     "extra": [[i, task_run_id, result_location, result_json, error], ...]}

``extra`` holds the rare columns, for the transitions ``i`` (position in the batch) that
have any. Names and messages repeat from one transition to the next, so they are stored
once per batch; numbers are packed because printing them as JSON would cost more than
all the rest. A transition is numbered within its flow run: the batch's ``first_seq``
plus its position.

Packing is written as whole-column operations (``map``, ``struct``) so that it costs a
fraction of a microsecond per transition; unpacking checks every column, so a damaged
row is reported, not half read.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

from ._errors import HistoryError


class Transition(NamedTuple):
    """One recorded transition, as read back from the database."""

    seq: int
    task: int | None
    map_index: int | None
    at: float
    old_state: str | None
    new_state: str
    message: str | None
    run_count: int
    task_run_id: str | None
    result_location: str | None
    result_json: str | None
    error: str | None


class Codes(dict[Any, int]):
    """Numbers values in the order they are first looked up: ``codes[value]``."""

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self)
        return code


#: The ``struct`` format character of each item size: signed integers, and one double.
_INT_FORMATS = {1: "b", 2: "h", 4: "i", 8: "q"}
_FLOAT_FORMATS = {8: "d"}


@functools.lru_cache(maxsize=64)
def _layout(count: int, code: str) -> struct.Struct:
    return struct.Struct(f"<{count}{code}")  # little-endian, standard sizes


def _pack_array(values: Sequence[Any], size: int, formats: dict[int, str]) -> list[Any]:
    packed = _layout(len(values), formats[size]).pack(*values)
    return [size, base64.b64encode(packed).decode("ascii")]


def _pack_ints(values: Sequence[int], low: int | None = None, high: int | None = None) -> list[Any]:
    """``values`` packed in the fewest bytes that hold them all (``low`` and ``high``,
    when known, bound them and spare a pass over them)."""
    if not values:
        low = high = 0
    if low is None:
        low = min(values)
    if high is None:
        high = max(values)
    for size in (1, 2, 4, 8):
        limit = 1 << (8 * size - 1)
        if -limit <= low and high < limit:
            return _pack_array(values, size, _INT_FORMATS)
    raise ValueError(f"{high if high > 0 else low} does not fit in 64 bits")


def _unpack_array(packed: Any, count: int, formats: dict[int, str]) -> tuple[Any, ...]:
    if not isinstance(packed, list) or len(packed) != 2 or packed[0] not in formats:
        raise ValueError(f"{packed!r:.40} is not a packed column")
    raw = base64.b64decode(packed[1].encode("ascii"), validate=True)
    if len(raw) != count * packed[0]:
        raise ValueError(f"a column has {len(raw) // packed[0]} values for {count} transitions")
    return struct.unpack(f"<{count}{formats[packed[0]]}", raw)


def pack(
    *,
    at: Sequence[float],
    task: Sequence[int],
    task_bound: int | None = None,
    map_index: Sequence[int | None],
    old: Sequence[type],
    new: Sequence[type],
    message: Sequence[str | None],
    run_count: Sequence[int],
    extra: Sequence[tuple[int, str | None, str | None, str | None, str | None]],
) -> str:
    """The ``data`` of one batch from its columns (all of the same length); ``task`` is
    -1 for the flow's own transitions (and less than ``task_bound`` if given), ``old``
    and ``new`` are state classes."""
    states = Codes()
    messages = Codes()
    get_state = states.__getitem__
    old_codes = list(map(get_state, old))
    new_codes = list(map(get_state, new))
    message_codes = list(map(messages.__getitem__, message))
    document = {
        "at": _pack_array(at, 8, _FLOAT_FORMATS),
        "task": _pack_ints(task, -1, task_bound),
        "old": _pack_ints(old_codes, 0, len(states)),
        "new": _pack_ints(new_codes, 0, len(states)),
        "message": _pack_ints(message_codes, 0, len(messages)),
        "run_count": _pack_ints(run_count, 0),
        "states": [cls.__name__ for cls in states],
        "messages": list(messages),
        "extra": [list(e) for e in extra],
    }
    if map_index.count(None) != len(map_index):
        document["map_index"] = _pack_ints([-1 if m is None else m for m in map_index], -1)
    return json.dumps(document, separators=(",", ":"))


def _names(document: dict[str, Any], key: str, codes: Sequence[int]) -> list[Any]:
    table = document.get(key)
    if not isinstance(table, list):
        raise ValueError(f"table {key!r} is missing")
    if codes and (min(codes) < 0 or max(codes) >= len(table)):
        raise ValueError(f"a code is outside table {key!r}")
    return list(map(table.__getitem__, codes))


def unpack(first_seq: int, count: int, data: str) -> list[Transition]:
    """The transitions of one stored batch; HistoryError if the row is damaged."""
    try:
        document = json.loads(data)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        times = _unpack_array(document.get("at"), count, _FLOAT_FORMATS)
        tasks = [None if t < 0 else t
                 for t in _unpack_array(document.get("task"), count, _INT_FORMATS)]
        if "map_index" in document:
            map_indexes = [None if m < 0 else m for m in
                           _unpack_array(document["map_index"], count, _INT_FORMATS)]
        else:
            map_indexes = [None] * count
        olds = _names(document, "states", _unpack_array(document.get("old"), count, _INT_FORMATS))
        news = _names(document, "states", _unpack_array(document.get("new"), count, _INT_FORMATS))
        messages = _names(document, "messages",
                          _unpack_array(document.get("message"), count, _INT_FORMATS))
        run_counts = _unpack_array(document.get("run_count"), count, _INT_FORMATS)
        extras: dict[int, list[Any]] = {}
        for entry in document.get("extra") or ():
            if not isinstance(entry, list) or len(entry) != 5:
                raise ValueError("an 'extra' entry is not [i, id, location, json, error]")
            extras[int(entry[0])] = entry[1:]
    except (TypeError, ValueError, IndexError, binascii.Error) as exc:
        raise HistoryError(
            f"a stored batch of transitions (from number {first_seq}) is damaged: {exc}"
        ) from exc
    run_ids: list[Any] = [None] * count
    locations: list[Any] = [None] * count
    json_texts: list[Any] = [None] * count
    errors: list[Any] = [None] * count
    for i, (run_id, location, json_text, error) in extras.items():
        if 0 <= i < count:
            run_ids[i], locations[i], json_texts[i], errors[i] = (
                run_id, location, json_text, error)
    columns = zip(range(first_seq, first_seq + count), tasks, map_indexes, times, olds, news,
                  messages, run_counts, run_ids, locations, json_texts, errors, strict=True)
    return list(map(_new_transition, columns))


#: ``Transition`` from a tuple of its fields, without a Python-level call per transition.
_new_transition = functools.partial(tuple.__new__, Transition)
