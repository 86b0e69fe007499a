"""Flow parameters from the command line: ``-p name=value`` and ``--params-file``.

A value is read as JSON when it parses (``-p n=3`` is the int 3, ``-p tags='["a"]'`` a
list) and is otherwise the plain string (``-p url=https://example.com``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._core._flow import Flow
from .._datetime_parameter import DateTimeParameter
from ._errors import CLIError


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_param(item: str) -> tuple[str, Any]:
    """``"n=3"`` -> ``("n", 3)``."""
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise CLIError(
            f"-p {item!r} is not NAME=VALUE; write for example -p n=3 or -p url=https://x.org"
        )
    return name, parse_value(value)


def read_params_file(path: str) -> dict[str, Any]:
    """The JSON object in ``path``."""
    file = Path(path)
    if not file.is_file():
        raise CLIError(f"parameters file {path!r} does not exist")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CLIError(f"parameters file {path!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CLIError(
            f"parameters file {path!r} holds a {type(data).__name__}; it must be a JSON "
            'object like {"n": 3}'
        )
    return data


def build_parameters(
    flow: Flow, items: Sequence[str] = (), params_file: str | None = None, *,
    require: bool = True,
) -> dict[str, Any]:
    """The run's parameters (``-p`` overrides the file), checked against the flow's
    (required ones too, unless ``require`` is false: a restart has the old run's)."""
    values: dict[str, Any] = read_params_file(params_file) if params_file else {}
    for item in items:
        name, value = parse_param(item)
        values[name] = value
    declared = flow.parameters()
    for item in items:  # a date-time is text: -p day=20240501 is not the number 20240501
        name, _, text = item.partition("=")
        name = name.strip()
        if isinstance(declared.get(name), DateTimeParameter) and not isinstance(values[name], str):
            values[name] = text
    for name in values:
        if name not in declared:
            known = ", ".join(sorted(declared)) if declared else "none"
            raise CLIError(
                f"flow {flow.name!r} has no parameter {name!r}; its parameters are: {known}"
            )
    for name, parameter in sorted(declared.items()):
        if require and parameter.required and name not in values:
            raise CLIError(
                f"flow {flow.name!r} needs parameter {name!r}; pass it with -p {name}=VALUE"
            )
    return values
