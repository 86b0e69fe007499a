"""The ``[notifications]`` settings, and the error of a notification that was not delivered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._core._config import load_config
from .._core._context import context
from .._core._exceptions import NotificationError

DEFAULT_BACKOFF = 0.5


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
    flush_timeout: float
    slack_interval: float
    digest_tasks: int
    dashboard_url: str

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
            flush_timeout=max(0.0, float(section.get("flush_timeout", 60.0))),
            slack_interval=max(0.0, float(section.get("slack_interval", 1.0))),
            digest_tasks=max(1, int(section.get("digest_tasks", 10))),
            dashboard_url=str(section.get("dashboard_url") or "").rstrip("/"),
        )
