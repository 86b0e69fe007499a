"""The public surface: every name in a public module's __all__ exists, and nothing else
public is exported by accident."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_MODULES = [
    "asyncflow",
    "asyncflow.states",
    "asyncflow.signals",
    "asyncflow.triggers",
    "asyncflow.tasks",
    "asyncflow.cache_validators",
    "asyncflow.config",
    "asyncflow.schedules",
    "asyncflow.executors",
    "asyncflow.results",
    "asyncflow.serializers",
    "asyncflow.result_handlers",
    "asyncflow.notifications",
    "asyncflow.secrets",
    "asyncflow.visualization",
    "asyncflow.history",
    "asyncflow.ui",
    "asyncflow.contrib.aiohttp",
    "asyncflow.engine",
    "asyncflow.exceptions",
    "asyncflow.testing",
    "asyncflow.mypy_plugin",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for attr in exported:
        assert getattr(module, attr) is not None, f"{name}.{attr}"


@pytest.mark.parametrize("name", ["asyncflow", "asyncflow.states", "asyncflow.signals",
                                  "asyncflow.triggers", "asyncflow.tasks", "asyncflow.results",
                                  "asyncflow.serializers", "asyncflow.notifications"])
def test_no_accidental_public_names(name: str) -> None:
    module = importlib.import_module(name)
    public = {n for n in vars(module) if not n.startswith("_")
              and not isinstance(vars(module)[n], type(importlib))}
    public -= {"annotations", "Any"}
    assert public <= set(module.__all__), sorted(public - set(module.__all__))


def test_the_version_is_exported() -> None:
    import asyncflow

    assert asyncflow.__version__.count(".") == 2
