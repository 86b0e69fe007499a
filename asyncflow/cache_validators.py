"""Cache validators decide whether a cached result can stand in for a new run."""

from __future__ import annotations

from ._core._cache_validators import (
    all_inputs as all_inputs,
    all_parameters as all_parameters,
    duration_only as duration_only,
    never_use as never_use,
    partial_inputs_only as partial_inputs_only,
    partial_parameters_only as partial_parameters_only,
)

__all__ = [
    "all_inputs",
    "all_parameters",
    "duration_only",
    "never_use",
    "partial_inputs_only",
    "partial_parameters_only",
]
