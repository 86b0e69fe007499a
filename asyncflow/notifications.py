"""Notifications from state handlers: Slack, generic webhooks and email.

Every notifier is an async state handler ``(obj, old_state, new_state)``::

    from asyncflow import task
    from asyncflow.notifications import slack_notifier
    from asyncflow.states import Failed, Retrying

    @task(max_retries=2, retry_delay=10,
          state_handlers=[slack_notifier(only_states=[Failed, Retrying])])
    async def load(): ...

Messages to one receiver go through one paced sender shared by every run on the event
loop: Slack webhooks get at most one message a second, transitions that wait are folded
into one digest, and a rate limit (``429``) is waited out, never a failure. Inside a flow
run a notifier returns once its message is queued; the run waits for its alerts when it
ends (``notifications.flush_timeout``) and counts any it could not deliver in one ERROR
log line. A missing secret or a formatter error raises :class:`NotificationError` by
default. Webhook URLs and credentials come from secrets (see :mod:`asyncflow.secrets`)
and never appear in messages or logs.
"""

from __future__ import annotations

from ._core._callbacks import callback_factory as callback_factory
from ._core._exceptions import NotificationError as NotificationError
from ._notify._email import email_notifier as email_notifier
from ._notify._formatting import (
    slack_message_formatter as slack_message_formatter,
    webhook_payload as webhook_payload,
)
from ._notify._notifier import NotificationDeliveryError as NotificationDeliveryError
from ._notify._slack import slack_notifier as slack_notifier
from ._notify._webhook import webhook_notifier as webhook_notifier

__all__ = [
    "NotificationDeliveryError",
    "NotificationError",
    "callback_factory",
    "email_notifier",
    "slack_message_formatter",
    "slack_notifier",
    "webhook_notifier",
    "webhook_payload",
]
