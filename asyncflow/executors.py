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

__all__ = ["DaskExecutor",  # noqa: F822 - loaded lazily by __getattr__ (needs the dask extra) "Executor", "LocalExecutor", "PersistRequest", "Persisted",
           "TaskTimeoutError"]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":
        from ._dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(name)
