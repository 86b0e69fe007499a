"""What every notifier does around delivery: filter, look up secrets, format, fail or log.

A notifier is an async state handler ``await notifier(obj, old_state, new_state)``. In
order it:

1. checks ``only_states`` / ``ignore_states`` against the new state (no secret is read
   for a transition it ignores);
2. reads its secrets and builds its message (subclasses, in :meth:`Notifier.deliver`);
3. delivers it, and on failure raises :class:`~asyncflow.NotificationError` when
   ``raise_on_error`` is true (the engine then fails the task and tells every handler),
   or logs the error, without any secret, and lets the run go on.

It returns None, so the state the engine proposed stands.
"""

from __future__ import annotations

import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .._core._config import load_config
from .._core._context import context
from .._core._exceptions import NotificationError, SecretNotFoundError
from .._core._states import State
from .._secrets import Secret, SecretStr
from ._filters import StateFilter

logger = logging.getLogger("asyncflow.notifications")

DEFAULT_BACKOFF = 0.5


class Notifier(ABC):
    """Base class of the notifiers; subclasses implement :meth:`deliver`."""

    kind: ClassVar[str] = "notification"

    def __init__(self, state_filter: StateFilter, *, raise_on_error: bool) -> None:
        self.state_filter = state_filter
        self.raise_on_error = raise_on_error

    async def __call__(self, obj: Any, old_state: State, new_state: State) -> State | None:
        if not self.state_filter.accepts(new_state):
            return None
        try:
            await self.deliver(obj, old_state, new_state)
        except (NotificationError, SecretNotFoundError) as exc:
            if self.raise_on_error:
                raise
            logger.error(
                "%s about %s (%s -> %s) was not delivered: %s",
                self.kind, getattr(obj, "name", obj), old_state.name, new_state.name, exc,
            )
        return None

    @abstractmethod
    async def deliver(self, obj: Any, old_state: State, new_state: State) -> None:
        """Send the notification about ``obj`` entering ``new_state``."""

    def _options(self) -> list[str]:
        """Keyword arguments shown by ``repr`` (never a secret's value)."""
        return []

    def __repr__(self) -> str:
        options = self._options()
        described = self.state_filter.describe()
        if described:
            options.append(described)
        if not self.raise_on_error:
            options.append("raise_on_error=False")
        return f"{type(self).__name__}({', '.join(options)})"


class NotificationDeliveryError(NotificationError):
    """A notification was not accepted by its receiver.

    ``status`` is the last HTTP status (None when no answer came), ``body`` the
    receiver's short answer (e.g. ``channel_not_found``), ``attempts`` how many requests
    were made.
    """

    def __init__(
        self, message: str, *, status: int | None, body: str | None, attempts: int
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.attempts = attempts


@dataclass(frozen=True)
class NotificationSettings:
    """The ``[notifications]`` configuration section."""

    timeout: float
    max_attempts: int
    max_retry_after: float
    backoff: float

    @classmethod
    def current(cls) -> NotificationSettings:
        """The settings of the current run (read when it started), else read now."""
        config = context.get("config")
        if not isinstance(config, Mapping) or not isinstance(
            config.get("notifications"), Mapping
        ):
            config = load_config()
        section = config["notifications"]
        return cls(
            timeout=float(section.get("timeout", 10.0)),
            max_attempts=max(1, int(section.get("max_attempts", 4))),
            max_retry_after=float(section.get("max_retry_after", 30.0)),
            backoff=float(section.get("backoff", DEFAULT_BACKOFF)),
        )


def secret_text(name: str, purpose: str) -> SecretStr:
    """The text of secret ``name``; errors say what it was needed for."""
    try:
        return Secret(name).get_text()
    except TypeError as exc:
        raise NotificationError(f"{purpose}: {exc}") from None


def given_secret(value: str | SecretStr | None, option: str, owner: str) -> SecretStr | None:
    """A secret passed directly as an option, wrapped so that it never shows."""
    if value is None or isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        if not value:
            raise ValueError(f"{owner}: {option} is empty; pass the value or leave it None")
        return SecretStr(value)
    raise TypeError(
        f"{owner}: {option} takes a string or a SecretStr, got a {type(value).__name__}"
    )


def formatter_name(formatter: Callable[..., Any]) -> str:
    return getattr(formatter, "__qualname__", None) or repr(formatter)


async def call_formatter(formatter: Callable[..., Any], *args: Any) -> Any:
    """``formatter(*args)``, awaited when it returns an awaitable; errors name it."""
    try:
        payload = formatter(*args)
        if inspect.isawaitable(payload):
            payload = await payload
    except Exception as exc:
        raise NotificationError(
            f"the formatter {formatter_name(formatter)} raised {exc!r}"
        ) from exc
    return payload
