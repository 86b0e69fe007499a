"""The exception tree (see :mod:`asyncflow._core._exceptions` for the whole drawing).

Every error asyncflow raises on purpose derives from :class:`AsyncflowError`; those that
match a built-in error Prefect 1.x raised also derive from it (``FlowDefinitionError`` is
a ``ValueError``, ``TaskArgumentError`` a ``TypeError``), so ``except ValueError`` keeps
working. :class:`Signal` is here too, as Prefect's ``prefect.exceptions.PrefectSignal``
was: the root of the signals, a ``BaseException`` and not an error.
"""

from __future__ import annotations

from ._core._exceptions import (
    AsyncflowError as AsyncflowError,
    ConfigError as ConfigError,
    CycleError as CycleError,
    EdgeError as EdgeError,
    FlowDefinitionError as FlowDefinitionError,
    FlowRunError as FlowRunError,
    LocationError as LocationError,
    MissingExtraError as MissingExtraError,
    NotificationError as NotificationError,
    ParameterError as ParameterError,
    ResultError as ResultError,
    ResultNotFoundError as ResultNotFoundError,
    ResultReadError as ResultReadError,
    ResultWriteError as ResultWriteError,
    SecretNotFoundError as SecretNotFoundError,
    SerializationError as SerializationError,
    TamperedResultError as TamperedResultError,
    TaskArgumentError as TaskArgumentError,
)
from ._core._signals import Signal as Signal

__all__ = [
    "AsyncflowError",
    "ConfigError",
    "CycleError",
    "EdgeError",
    "FlowDefinitionError",
    "FlowRunError",
    "LocationError",
    "MissingExtraError",
    "NotificationError",
    "ParameterError",
    "ResultError",
    "ResultNotFoundError",
    "ResultReadError",
    "ResultWriteError",
    "SecretNotFoundError",
    "SerializationError",
    "Signal",
    "TamperedResultError",
    "TaskArgumentError",
]
