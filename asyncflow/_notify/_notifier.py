"""What every notifier does around delivery: filter, look up secrets, format, queue.

A notifier is an async state handler ``await notifier(obj, old_state, new_state)``. In
order it:

1. checks ``only_states`` / ``ignore_states`` against the new state (no secret is read
   for a transition it ignores);
2. reads its secrets and builds its message (subclasses, in :meth:`Notifier.prepare`);
   a missing secret or a formatter error raises :class:`~asyncflow.NotificationError`
   when ``raise_on_error`` is true (the engine then fails the task and tells every
   handler), or is logged, without any secret, and the run goes on;
3. hands the message to its receiver's paced sender (:mod:`._sender`). Inside a flow
   run it returns at once: delivery goes on in the background, the run waits for it
   when it ends, and an alert that cannot be delivered is counted in one ERROR log
   line. Outside a run it waits for the delivery, and a failure is raised or logged as
   in step 2.

It returns None, so the state the engine proposed stands.
"""

from __future__ import annotations

import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from .._core._context import current_task_run
from .._core._exceptions import NotificationError, SecretNotFoundError
from .._core._states import State
from .._secrets import Secret, SecretStr
from ._filters import StateFilter
from ._formatting import describe
from ._sender import Alert, Channel, dispatch
from ._settings import (
    NotificationDeliveryError as NotificationDeliveryError,
    NotificationSettings as NotificationSettings,
)

logger = logging.getLogger("asyncflow.notifications")


@dataclass(frozen=True)
class Outgoing:
    """A notifier's message for one transition, and the receiver it goes to.

    ``key`` names the receiver (notifiers with equal keys share one paced sender);
    ``channel`` makes its :class:`~._sender.Channel` the first time the key is seen;
    ``batchable``: the message may be folded into a digest with others.
    """

    key: Hashable
    channel: Callable[[], Channel]
    message: Any
    batchable: bool = False


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
            outgoing = await self.prepare(obj, old_state, new_state)
            alert = Alert(
                name=str(getattr(obj, "name", None) or obj),
                state=new_state.name,
                message=outgoing.message,
                settings=NotificationSettings.current(),
                change=describe(obj, new_state) if outgoing.batchable else None,
                batchable=outgoing.batchable,
                order=_order_key(obj, new_state),
            )
            await dispatch(outgoing.key, outgoing.channel, alert)
        except (NotificationError, SecretNotFoundError) as exc:
            if self.raise_on_error:
                raise
            logger.error(
                "%s about %s (%s -> %s) was not delivered: %s",
                self.kind, getattr(obj, "name", obj), old_state.name, new_state.name, exc,
            )
        return None

    @abstractmethod
    async def prepare(self, obj: Any, old_state: State, new_state: State) -> Outgoing:
        """The message about ``obj`` entering ``new_state``, and where it goes."""

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


def _order_key(obj: Any, state: State) -> Hashable:
    """Alerts about one task run (object and map index) keep their order."""
    task_run = current_task_run()
    index = state.map_index if state.map_index is not None else (
        task_run.map_index if task_run is not None else None
    )
    return (id(obj), index)


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
