"""Run task bodies on Dask distributed (public: :class:`asyncflow.executors.DaskExecutor`).

Needs the ``dask`` extra: ``pip install 'asyncflow-engine[dask]'``.
"""

from __future__ import annotations

from .._core._exceptions import MissingExtraError

try:
    import distributed as _distributed  # noqa: F401
except ImportError:  # pragma: no cover - exercised without the extra
    raise MissingExtraError("DaskExecutor", "dask", "distributed") from None

from ._errors import (
    DaskExecutorError as DaskExecutorError,
    RemoteTaskError as RemoteTaskError,
    RemoteTraceback as RemoteTraceback,
)
from ._executor import DaskExecutor as DaskExecutor

__all__ = ["DaskExecutor", "DaskExecutorError", "RemoteTaskError", "RemoteTraceback"]
