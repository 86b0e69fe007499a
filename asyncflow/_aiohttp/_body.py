"""The body of ``POST {prefix}/{flow_name}/runs``: the run's parameters, as strict JSON.

A body is refused with a :class:`~asyncflow.ParameterError` (the route answers 400) when
it is not JSON, when it is not an object, when arrays and objects nest deeper than
:data:`MAX_DEPTH` levels (measured before parsing, so a deep body cannot exhaust the
stack), or when it holds ``NaN``, ``Infinity``, ``-Infinity`` or a number too large for a
float (Python reads ``1e999`` as infinity): none of those is a JSON number, and a run's
parameters are echoed back in its JSON. How large a body may be is the app's
``client_max_size`` (aiohttp's default is 1 MiB); the route answers 413 beyond it.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import re
from typing import Any

from .._core._exceptions import ParameterError
from ._encoding import float_name

#: How deeply arrays and objects may nest in a body, the body's own object included.
MAX_DEPTH = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
#: Each opening bracket as 2, each closing one as 0 (see :func:`nesting_depth`).
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``raw``, without parsing it.

    Strings are cut out first (their brackets do not count), then only brackets are kept.
    With an opening bracket worth 2 and a closing one 0, the depth after the i-th bracket
    is the running sum minus i; the whole scan runs in C, so it is cheap for any body size.
    """
    brackets = _STRING.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS)
    depths = map(operator.sub, itertools.accumulate(brackets), itertools.count(1))
    return max(depths, default=0)


def parse_parameters(raw: bytes) -> dict[str, Any]:
    """The parameters in a submit request's body (an empty body means none)."""
    if not raw.strip():
        return {}
    depth = nesting_depth(raw)
    if depth > MAX_DEPTH:
        raise ParameterError(
            f"the request body nests arrays and objects {depth} levels deep; at most "
            f"{MAX_DEPTH} levels are accepted: send flatter parameters"
        )
    try:
        parameters = json.loads(raw)
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
    return parameters


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

