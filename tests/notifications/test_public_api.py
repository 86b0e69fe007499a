"""The public surface of asyncflow.notifications and asyncflow.secrets."""

from __future__ import annotations

import asyncflow.notifications
import asyncflow.secrets
from asyncflow._core._callbacks import callback_factory
from asyncflow._core._exceptions import AsyncflowError


def test_notifications_exports_exactly_its_all() -> None:
    public = {name for name in vars(asyncflow.notifications) if not name.startswith("_")}
    public.discard("annotations")

    assert public == set(asyncflow.notifications.__all__)


def test_secrets_exports_exactly_its_all() -> None:
    public = {name for name in vars(asyncflow.secrets) if not name.startswith("_")}
    public.discard("annotations")

    assert public == set(asyncflow.secrets.__all__)


def test_errors_belong_to_the_asyncflow_tree() -> None:
    assert issubclass(asyncflow.notifications.NotificationError, AsyncflowError)
    assert issubclass(
        asyncflow.notifications.NotificationDeliveryError,
        asyncflow.notifications.NotificationError,
    )
    assert issubclass(asyncflow.secrets.SecretNotFoundError, AsyncflowError)


def test_callback_factory_is_the_engine_one() -> None:
    assert asyncflow.notifications.callback_factory is callback_factory
