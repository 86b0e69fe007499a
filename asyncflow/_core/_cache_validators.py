"""Cache validators: decide whether a cached state can stand in for a new run.

Each is a function ``(state, inputs, parameters) -> bool``, where ``state`` is the
``Cached`` state of an earlier run.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._states import Cached, State

Validator = Callable[[State, Mapping[str, Any], Mapping[str, Any]], bool]


def _not_expired(state: State) -> bool:
    expiration = getattr(state, "cached_result_expiration", None)
    if expiration is None:
        return True
    return bool(datetime.datetime.now(datetime.timezone.utc) < expiration)


def never_use(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Never reuse a cached result."""
    return False


def duration_only(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Reuse while ``cache_for`` has not expired, whatever the inputs (use with care)."""
    return isinstance(state, Cached) and _not_expired(state)


def all_inputs(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Reuse while not expired and the task's inputs equal the cached ones."""
    return (
        isinstance(state, Cached)
        and _not_expired(state)
        and dict(state.cached_inputs or {}) == dict(inputs)
    )


def all_parameters(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Reuse while not expired and the flow's parameters equal the cached ones."""
    return (
        isinstance(state, Cached)
        and _not_expired(state)
        and dict(state.cached_parameters or {}) == dict(parameters)
    )


def partial_parameters_only(validate_on: Iterable[str]) -> Validator:
    """Reuse while not expired and the named parameters equal the cached ones."""
    names = list(validate_on)

    def validator(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
        if not (isinstance(state, Cached) and _not_expired(state)):
            return False
        cached = state.cached_parameters or {}
        return all(cached.get(n) == parameters.get(n) for n in names)

    validator.__name__ = "partial_parameters_only"
    return validator


def partial_inputs_only(validate_on: Iterable[str]) -> Validator:
    """Reuse while not expired and the named inputs equal the cached ones."""
    names = list(validate_on)

    def validator(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
        if not (isinstance(state, Cached) and _not_expired(state)):
            return False
        cached = state.cached_inputs or {}
        return all(cached.get(n) == inputs.get(n) for n in names)

    validator.__name__ = "partial_inputs_only"
    return validator
