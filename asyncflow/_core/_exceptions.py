"""The asyncflow exception tree.

Every error asyncflow raises on purpose derives from :class:`AsyncflowError`::

    AsyncflowError
    ├── FlowDefinitionError (also ValueError)    a flow or task was built wrongly
    │   ├── CycleError                           the graph has a cycle
    │   ├── EdgeError                            an edge cannot be made as asked
    │   └── TaskArgumentError (also TypeError)   a task was called with arguments its
    │                                            body cannot take, or a building call
    │                                            (apply_map, chain) got the wrong kind
    ├── ParameterError (also ValueError)         unknown, missing or duplicate parameters
    ├── FlowRunError (also RuntimeError)         a run was started the wrong way
    ├── ConfigError (also ValueError)            a configuration value cannot be used
    ├── MissingExtraError (also ImportError)     an optional dependency is not installed
    ├── ResultError                              reading or writing a stored result
    │   ├── ResultNotFoundError (also KeyError)
    │   ├── ResultReadError
    │   ├── ResultWriteError
    │   ├── LocationError (also ValueError)      a location template cannot be filled
    │   └── SerializationError
    │       └── TamperedResultError              a signed payload failed its check
    ├── SecretNotFoundError (also KeyError)
    └── NotificationError                        a notifier could not deliver a message

Signals (:mod:`asyncflow.signals`) are not errors: they derive from ``BaseException`` so
that ``except Exception`` in user code does not swallow them.
"""

from __future__ import annotations


class AsyncflowError(Exception):
    """Base class of every error asyncflow raises on purpose."""


class FlowDefinitionError(AsyncflowError, ValueError):
    """A flow or a task was defined in a way that cannot run."""


class CycleError(FlowDefinitionError):
    """The flow's dependency graph has a cycle."""


class EdgeError(FlowDefinitionError):
    """An edge cannot be made: a task on both ends, or a key that is not an argument name."""


class TaskArgumentError(FlowDefinitionError, TypeError):
    """A task was called (or bound) with arguments its body cannot take, or a call that
    builds a flow (``apply_map``, ``flow.chain``, ``flow.update``) got the wrong kind of
    argument."""


class ParameterError(AsyncflowError, ValueError):
    """Flow parameters are unknown, missing or duplicated."""


class FlowRunError(AsyncflowError, RuntimeError):
    """A flow run was started in a way that cannot work."""


class ConfigError(AsyncflowError, ValueError):
    """A configuration value cannot be used."""


class MissingExtraError(AsyncflowError, ImportError):
    """An optional dependency needed by a feature is not installed."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the optional dependency {module!r}, which is not installed. "
            f"Install it with: pip install 'asyncflow-engine[{extra}]'"
        )
        self.feature = feature
        self.extra = extra


class ResultError(AsyncflowError):
    """Reading or writing a stored result failed."""


class ResultNotFoundError(ResultError, KeyError):
    """No stored result exists at the location."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ResultReadError(ResultError):
    """A stored result exists but could not be read."""


class ResultWriteError(ResultError):
    """A result could not be written."""


class LocationError(ResultError, ValueError):
    """A result location or target template cannot be filled in safely."""


class SerializationError(ResultError):
    """A value could not be serialized, or bytes could not be deserialized."""


class TamperedResultError(SerializationError):
    """A signed payload does not match its signature."""


class SecretNotFoundError(AsyncflowError, KeyError):
    """A secret was asked for but is set nowhere."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotificationError(AsyncflowError):
    """A notification could not be delivered."""
