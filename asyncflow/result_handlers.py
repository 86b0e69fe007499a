"""Deprecated result handlers (Prefect < 0.11), kept so that old flows still run.

Pass ``result=`` a :mod:`asyncflow.results` Result instead; ``result_handler=`` on a Task
or Flow warns and is converted with :func:`result_from_handler`.
"""

from __future__ import annotations

from ._results._handlers import (
    GCSResultHandler as GCSResultHandler,
    JSONResultHandler as JSONResultHandler,
    LocalResultHandler as LocalResultHandler,
    ResultHandler as ResultHandler,
    ResultHandlerResult as ResultHandlerResult,
    S3ResultHandler as S3ResultHandler,
    result_from_handler as result_from_handler,
)

__all__ = [
    "GCSResultHandler",
    "JSONResultHandler",
    "LocalResultHandler",
    "ResultHandler",
    "ResultHandlerResult",
    "S3ResultHandler",
    "result_from_handler",
]
