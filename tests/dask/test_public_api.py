"""The Dask executor's public surface and its optional dependency."""

from __future__ import annotations

import importlib
import sys

import pytest

import asyncflow._dask
import asyncflow.executors
from asyncflow import AsyncflowError
from asyncflow._core._exceptions import MissingExtraError
from asyncflow._dask import DaskExecutor, DaskExecutorError, RemoteTaskError


def test_executors_module_exports_the_dask_executor() -> None:
    assert asyncflow.executors.DaskExecutor is DaskExecutor
    assert "DaskExecutor" in asyncflow.executors.__all__


def test_package_all_matches_its_names() -> None:
    exported = {name for name in dir(asyncflow._dask) if not name.startswith("_")}
    modules = {"DaskExecutor", "DaskExecutorError", "RemoteTaskError", "RemoteTraceback"}
    assert set(asyncflow._dask.__all__) == modules
    assert modules <= exported


def test_errors_belong_to_the_asyncflow_tree() -> None:
    assert issubclass(DaskExecutorError, AsyncflowError)
    assert issubclass(RemoteTaskError, DaskExecutorError)


def test_missing_distributed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "asyncflow._dask")
    with pytest.raises(MissingExtraError, match=r"pip install 'asyncflow-engine\[dask\]'"):
        importlib.import_module("asyncflow._dask")


def test_repr_says_where_bodies_run() -> None:
    assert repr(DaskExecutor("tcp://127.0.0.1:8786")) == (
        "DaskExecutor(address='tcp://127.0.0.1:8786')")
    assert repr(DaskExecutor()) == "DaskExecutor(cluster_class=LocalCluster)"
    assert repr(DaskExecutor(cluster_class="dask_jobqueue.SLURMCluster")) == (
        "DaskExecutor(cluster_class=dask_jobqueue.SLURMCluster)")


def test_remote_task_error_survives_pickling() -> None:
    import pickle

    error = RemoteTaskError("text", type_name="mod.Bad", remote_message="bad",
                            traceback_text="Traceback ...")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.type_name, copy.message, copy.traceback_text) == (
        "text", "mod.Bad", "bad", "Traceback ...")
