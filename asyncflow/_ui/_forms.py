"""A flow's parameters as the fields of a form, and a submitted form read back into values.

Each field's kind comes from its Parameter's default: ``bool``, ``int``, ``float`` and
``str`` defaults give fields of that type; lists and dicts (anything JSON can hold) give
a JSON field. A parameter without a default (or whose default is None) gets an *any*
field: its text is read as JSON when it parses and is the plain text otherwise, as the
command line's ``-p`` reads values. A default JSON cannot show (a date, a set, an object)
cannot be set from a form; the run uses the default.

A field left empty means the parameter's default; a required parameter left empty, or a
value of the wrong form, is a problem named after its parameter (see
:class:`ParameterFormError`), and the form is answered with every problem at once. Field
names are ``p:<parameter name>``, so no parameter name can clash with the form's own
fields.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._aiohttp._body import MAX_DEPTH, check_nesting
from .._core._exceptions import ParameterError
from .._core._flow import Flow

#: The prefix of a parameter's field name in a form.
FIELD_PREFIX = "p:"
#: The kinds of field, in the words the form shows.
KIND_LABELS = {
    "int": "whole number", "float": "number", "bool": "true or false", "str": "text",
    "json": "JSON", "any": "JSON or text", "fixed": "not settable here",
}
#: At most this many digits in a whole number (what ``int()`` reads by default).
_MAX_DIGITS = 4300
_WHOLE = re.compile(rf"[+-]?[0-9]{{1,{_MAX_DIGITS}}}")


class ParameterFormError(ParameterError):
    """A submitted form's values cannot be used; ``problems`` maps parameter names to why."""

    def __init__(self, flow_name: str, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        listed = "; ".join(f"{name}: {why}" for name, why in self.problems.items())
        super().__init__(f"flow {flow_name!r} was not started: {listed}")


@dataclass(frozen=True)
class ParameterField:
    """One parameter as a form field: its ``kind`` and the text the field starts with."""

    name: str
    kind: str
    required: bool
    default: Any
    initial: str

    @property
    def field_name(self) -> str:
        return FIELD_PREFIX + self.name

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def kind_of(default: Any) -> str:
    """The kind of field for a parameter with this default."""
    if default is None:
        return "any"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float" if math.isfinite(default) else "fixed"
    if isinstance(default, str):
        return "str"
    if isinstance(default, (list, dict)):
        try:
            json.dumps(default, allow_nan=False)
        except (TypeError, ValueError):
            return "fixed"
        return "json"
    return "fixed"


def fields_for(flow: Flow) -> list[ParameterField]:
    """The form fields of ``flow``'s parameters, by name."""
    out = []
    for name, parameter in sorted(flow.parameters().items()):
        required = bool(parameter.required)
        default = parameter.default
        kind = kind_of(default)
        out.append(ParameterField(name, kind, required, default,
                                  "" if required else initial_text(kind, default)))
    return out


def initial_text(kind: str, default: Any) -> str:
    """What a field shows before anything is typed: its default, written as it is read."""
    if kind == "bool":
        return "true" if default else "false"
    if kind == "json":
        return json.dumps(default, indent=2, sort_keys=True)
    if kind in ("int", "float", "str"):
        return str(default)
    if kind == "fixed":
        return repr(default)
    return ""


def read_form(flow: Flow, form: Mapping[str, str]) -> dict[str, Any]:
    """The parameters a submitted form gives (fields left empty are left out, so their
    defaults apply); :class:`ParameterFormError` naming each parameter that is wrong."""
    fields = {f.field_name: f for f in fields_for(flow)}
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key in form:
        if key.startswith(FIELD_PREFIX) and key not in fields:
            name = key[len(FIELD_PREFIX):]
            problems[name] = (f"flow {flow.name!r} has no parameter {name!r}; its parameters "
                              f"are {sorted(f.name for f in fields.values()) or 'none'}")
    for key, field in fields.items():
        if field.kind == "fixed":
            continue
        text = form.get(key, "")
        if not text.strip():
            if field.required:
                problems[field.name] = f"is required: give it a value ({field.label})"
            continue
        try:
            values[field.name] = parse_field(field.kind, text)
        except ValueError as exc:
            problems[field.name] = str(exc)
    if problems:
        raise ParameterFormError(flow.name, problems)
    return values


def parse_field(kind: str, text: str) -> Any:
    """The value ``text`` gives a field of ``kind``; ValueError saying what to write."""
    stripped = text.strip()
    if kind == "int":
        if _WHOLE.fullmatch(stripped) is None:
            raise ValueError(f"must be a whole number such as 3, not {_shown(text)}")
        return int(stripped)
    if kind == "float":
        try:
            number = float(stripped)
        except ValueError:
            raise ValueError(f"must be a number such as 0.5, not {_shown(text)}") from None
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number such as 0.5, not {_shown(text)}")
        return number
    if kind == "bool":
        if stripped.lower() not in ("true", "false"):
            raise ValueError(f"must be true or false, not {_shown(text)}")
        return stripped.lower() == "true"
    if kind == "str":
        return text
    if kind == "json":
        return parse_json(text)
    if kind == "any":
        try:
            return parse_json(text)
        except ValueError:
            return text
    raise ValueError("cannot be set from the dashboard; the run uses its default")


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN or infinities, nested at most as deep as a submitted body."""
    try:
        check_nesting(text.encode())
    except ParameterError:
        raise ValueError(
            f"nests arrays and objects more than {MAX_DEPTH} levels deep; send flatter JSON"
        ) from None

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise ValueError(f"{number} is beyond a float's range")
        return value

    try:
        return json.loads(text, parse_constant=refuse, parse_float=finite)
    except ValueError as exc:
        raise ValueError(
            f'must be JSON such as [1, 2] or {{"key": "value"}} ({exc})'
        ) from None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
