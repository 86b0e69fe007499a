from __future__ import annotations

import inspect
import types

import pytest

import asyncflow.result_handlers
import asyncflow.results
import asyncflow.serializers


@pytest.mark.parametrize(
    "module", [asyncflow.results, asyncflow.serializers, asyncflow.result_handlers], ids=str
)
def test_all_matches_the_public_names(module: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, types.ModuleType)
    }
    assert sorted(module.__all__) == sorted(public)


@pytest.mark.parametrize(
    "module", [asyncflow.results, asyncflow.serializers, asyncflow.result_handlers], ids=str
)
def test_public_names_are_defined_in_private_modules(module: types.ModuleType) -> None:
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("asyncflow._"), f"{name} is in {value.__module__}"
