"""The public surface of asyncflow.contrib.aiohttp and the errors it raises."""

from __future__ import annotations

import asyncflow.contrib
import asyncflow.contrib.aiohttp as contrib_aiohttp
from asyncflow import AsyncflowError
from asyncflow._core._exceptions import FlowRunError


def test_module_exports_exactly_its_all() -> None:
    public = {name for name in vars(contrib_aiohttp) if not name.startswith("_")}
    public.discard("annotations")

    assert public == set(contrib_aiohttp.__all__)


def test_contrib_package_exports_nothing_itself() -> None:
    public = {
        name for name in vars(asyncflow.contrib)
        if not name.startswith("_") and name not in {"annotations", "aiohttp"}
    }

    assert public == set()
    assert asyncflow.contrib.__all__ == []


def test_errors_belong_to_the_asyncflow_tree() -> None:
    assert issubclass(contrib_aiohttp.UnknownFlowError, AsyncflowError)
    assert issubclass(contrib_aiohttp.UnknownFlowError, LookupError)
    assert issubclass(contrib_aiohttp.UnknownRunError, AsyncflowError)
    assert issubclass(contrib_aiohttp.UnknownRunError, LookupError)
    assert issubclass(contrib_aiohttp.RunLimitError, FlowRunError)
    assert issubclass(contrib_aiohttp.RunManagerClosedError, FlowRunError)


def test_the_app_key_names_the_run_manager_type() -> None:
    key = contrib_aiohttp.run_manager_key

    assert "RunManager" in repr(key)
