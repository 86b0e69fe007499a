"""Executors: where task bodies run (``flow.run(executor=...)``)."""

from __future__ import annotations

from typing import Any

from ._core._executor import (
    Executor as Executor,
    LocalExecutor as LocalExecutor,
    Persisted as Persisted,
    PersistRequest as PersistRequest,
    TaskTimeoutError as TaskTimeoutError,
)

__all__ = [  # noqa: F822 - the Dask names load lazily through __getattr__ (dask extra)
    "DaskExecutor",
    "DaskExecutorError",
    "Executor",
    "LocalExecutor",
    "PersistRequest",
    "Persisted",
    "RemoteTaskError",
    "TaskTimeoutError",
]


_DASK_NAMES = ("DaskExecutor", "DaskExecutorError", "RemoteTaskError")


def __getattr__(name: str) -> Any:
    if name in _DASK_NAMES:
        from . import _dask

        return getattr(_dask, name)
    if name == "LocalDaskExecutor":
        raise AttributeError(
            "asyncflow has no LocalDaskExecutor: the default LocalExecutor already runs "
            "async bodies concurrently on the loop and sync bodies in worker threads "
            "(bound them with flow.run(max_concurrency=N)); for processes or a cluster use "
            "DaskExecutor(), which starts a LocalCluster when given no address"
        )
    raise AttributeError(f"module 'asyncflow.executors' has no attribute {name!r}")
