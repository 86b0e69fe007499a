"""The body of ``POST {prefix}/{flow_name}/runs``: the run's parameters, as strict JSON.

A body is refused with a :class:`~asyncflow.ParameterError` (the route answers 400) when
it is not JSON, when it is not an object, when arrays and objects nest deeper than
:data:`MAX_DEPTH` levels (checked before parsing, so a deep body cannot exhaust the
stack), or when it holds ``NaN``, ``Infinity``, ``-Infinity`` or a number too large for a
float (Python reads ``1e999`` as infinity): none of those is a JSON number, and a run's
parameters are echoed back in its JSON. How large a body may be is the app's
``client_max_size`` (aiohttp's default is 1 MiB); the route answers 413 beyond it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .._core._exceptions import ParameterError
from ._encoding import float_name

#: How deeply arrays and objects may nest in a body, the body's own object included.
MAX_DEPTH = 64

#: Bytes that say where strings and arrays or objects begin and end; the rest is dropped.
_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
#: Depth does not depend on a bracket's kind: objects' braces count as arrays' brackets.
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
#: A string, once only quotes and brackets are left.
_STRING = re.compile(rb'"[^"]*"')
_DEEPER = b"[" * (MAX_DEPTH + 1)


def check_nesting(raw: bytes) -> None:
    """Refuse JSON text whose arrays and objects nest more than :data:`MAX_DEPTH` levels,
    without parsing it (a parser would recurse once per level).

    Escaped backslashes and quotes go first, so that every quote left opens or closes a
    string; then only quotes and brackets are kept (braces written as square brackets),
    and the strings are cut out, since their brackets do not count. Each pass then
    deletes every innermost pair ``[]``: one level of nesting, as ``bytes.replace`` does
    not look again at what it joined. Text left with a pair after ``MAX_DEPTH`` passes
    nests deeper. What never pairs up is ``]]...[[`` (the parser reports it as bad
    JSON), too deep when more than ``MAX_DEPTH`` brackets are left open.
    """
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", unescaped.translate(_AS_SQUARE, _STRUCTURE))
    for _ in range(MAX_DEPTH):
        fewer = brackets.replace(b"[]", b"")
        if fewer == brackets:
            break
        brackets = fewer
    if b"[]" in brackets or _DEEPER in brackets:
        raise _too_deep()


def _too_deep() -> ParameterError:
    return ParameterError(
        f"the request body nests arrays and objects more than {MAX_DEPTH} levels deep; "
        f"at most {MAX_DEPTH} levels are accepted (the body's own object is one): send "
        "flatter parameters"
    )


def parse_parameters(raw: bytes) -> dict[str, Any]:
    """The parameters in a submit request's body (an empty body means none)."""
    if not raw.strip():
        return {}
    check_nesting(raw)
    non_finite = False

    def number(text: str) -> float:  # json calls it only for floats, NaN and infinities
        nonlocal non_finite
        value = float(text)
        non_finite = non_finite or not math.isfinite(value)
        return value

    try:
        parameters = json.loads(raw, parse_float=number, parse_constant=number)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ParameterError(
            f"the request body is not valid JSON ({exc}); send the flow's parameters as a "
            'JSON object, e.g. {"n": 3}, or an empty body for none'
        ) from None
    if not isinstance(parameters, dict):
        raise ParameterError(
            "the request body must be a JSON object of parameter names to values, got a "
            f"JSON {type(parameters).__name__}"
        )
    if non_finite:
        _refuse_non_finite(parameters)
    return parameters


def _refuse_non_finite(parameters: dict[str, Any]) -> None:
    for name, value in parameters.items():
        where = _non_finite(value, name)
        if where is not None:
            path, number = where
            at = "" if path == name else f" (at {path})"
            raise ParameterError(
                f"parameter {name!r}{at} is {float_name(number)}, which is not a JSON "
                "number: send a finite number (NaN, Infinity, -Infinity and numbers beyond "
                "about 1.8e308 are refused)"
            )


def _non_finite(value: Any, path: str) -> tuple[str, float] | None:
    """Where in ``value`` (named ``path``) the first NaN or infinity is, and what it is."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, dict):
        items: Any = ((f"{path}.{key}", item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", item) for i, item in enumerate(value))
    else:
        return None
    for item_path, item in items:
        found = _non_finite(item, item_path)
        if found is not None:
            return found
    return None

