"""Slack incoming webhooks: ``slack_notifier``, bare or configured.

Bare, it is a state handler reporting every transition to the webhook in the secret
``SLACK_WEBHOOK_URL``::

    @task(state_handlers=[slack_notifier])

Configured, it returns such a handler::

    @task(state_handlers=[slack_notifier(only_states=[Failed, Retrying])])
    @task(state_handlers=[slack_notifier("https://hooks.slack.com/services/...")])
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, overload

from .._core._states import State
from .._secrets import SecretStr
from ._digest import slack_digest_body
from ._filters import StateClasses, StateFilter
from ._formatting import slack_message_formatter
from ._http import HttpChannel, encode_json
from ._notifier import (
    Notifier,
    Outgoing,
    call_formatter,
    formatter_name,
    given_secret,
    secret_text,
)
from ._settings import NotificationSettings

DEFAULT_WEBHOOK_SECRET = "SLACK_WEBHOOK_URL"

SlackFormatter = Callable[[Any, State], Any]


class SlackNotifier(Notifier):
    """A state handler posting to a Slack incoming webhook (made by :func:`slack_notifier`)."""

    kind = "Slack notification"

    def __init__(
        self,
        *,
        webhook_url: SecretStr | None,
        webhook_secret: str,
        state_filter: StateFilter,
        formatter: SlackFormatter,
        batch: bool,
        raise_on_error: bool,
    ) -> None:
        super().__init__(state_filter, raise_on_error=raise_on_error)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.formatter = formatter
        self.batch = batch

    async def prepare(self, obj: Any, old_state: State, new_state: State) -> Outgoing:
        url = self.webhook_url
        if url is None:
            url = secret_text(self.webhook_secret, "the Slack webhook URL")
        payload = await call_formatter(self.formatter, obj, new_state)
        body = encode_json(payload, f"the Slack formatter {formatter_name(self.formatter)}")
        return Outgoing(
            key=("slack", url.get_secret_value()),
            channel=lambda: _slack_channel(url),
            message=body,
            batchable=self.batch,
        )

    def _options(self) -> list[str]:
        options = []
        if self.webhook_url is not None:
            options.append(f"webhook_url={self.webhook_url}")
        else:
            options.append(f"webhook_secret={self.webhook_secret!r}")
        if self.formatter is not slack_message_formatter:
            options.append(f"formatter={formatter_name(self.formatter)}")
        if not self.batch:
            options.append("batch=False")
        return options


def _slack_interval(settings: NotificationSettings) -> float:
    return settings.slack_interval


def _slack_channel(url: SecretStr) -> HttpChannel:
    """One Slack webhook: paced at ``notifications.slack_interval``, digests allowed."""
    return HttpChannel(
        kind=SlackNotifier.kind,
        service="Slack webhook",
        url=url,
        interval=_slack_interval,
        digest=slack_digest_body,
    )


@overload
def slack_notifier(
    obj: Any, old_state: State, new_state: State, /
) -> Coroutine[Any, Any, State | None]: ...


@overload
def slack_notifier(
    webhook_url: str | SecretStr | None = None,
    *,
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
    only_states: StateClasses = None,
    ignore_states: StateClasses = None,
    formatter: SlackFormatter | None = None,
    batch: bool = True,
    raise_on_error: bool = True,
) -> SlackNotifier: ...


def slack_notifier(
    webhook_url: Any = None,
    old_state: Any = None,
    new_state: Any = None,
    *,
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
    only_states: StateClasses = None,
    ignore_states: StateClasses = None,
    formatter: SlackFormatter | None = None,
    batch: bool = True,
    raise_on_error: bool = True,
) -> SlackNotifier | Coroutine[Any, Any, State | None]:
    """Post state changes to a Slack incoming webhook.

    Two forms:

    - ``slack_notifier`` itself is a state handler: the engine calls it as
      ``slack_notifier(obj, old_state, new_state)`` and awaits the result. It reports
      every transition to the URL in the secret ``SLACK_WEBHOOK_URL``.
    - ``slack_notifier(webhook_url=None, *, ...)`` returns a configured handler:

      - ``webhook_url``: the URL itself (a string or SecretStr). When None, the URL is
        read from the secret ``webhook_secret`` at each notification.
      - ``only_states`` / ``ignore_states``: State classes to report / not to report
        (subclasses match). They are checked before any secret is read.
      - ``formatter``: ``(obj, state) -> payload`` (sync or async); the default is
        :func:`slack_message_formatter`. It shapes each message about one transition.
      - ``batch``: when true (default), transitions waiting for the webhook together
        go out as one digest message (counts by state, the first
        ``notifications.digest_tasks`` tasks with their errors, a link to the run on
        the dashboard at ``notifications.dashboard_url``). False: one message each.
      - ``raise_on_error``: when true (default) a missing secret or a formatter error
        raises ``NotificationError``, which fails the task; when false it is logged
        and the run goes on.

    Messages to one webhook go out one at a time, at most one per
    ``notifications.slack_interval`` seconds (Slack's rate), honouring ``Retry-After``;
    a rate limit never fails a task. Inside a flow run the handler returns once the
    message is queued, and the run waits for its alerts when it ends (at most
    ``notifications.flush_timeout`` seconds); alerts that cannot be delivered are
    counted in one ERROR log line. Outside a run the handler waits for the delivery
    and a failure raises ``NotificationDeliveryError`` (or is logged).

    Options may also be given with the handler form, so Prefect-style
    ``functools.partial(slack_notifier, only_states=[Failed])`` works.
    """
    handler_form = old_state is not None or new_state is not None
    owner = "slack_notifier"
    if handler_form:
        if not (isinstance(old_state, State) and isinstance(new_state, State)):
            raise TypeError(
                "slack_notifier is called either as a state handler "
                "slack_notifier(obj, old_state, new_state) with two States, or to configure "
                "one: slack_notifier(webhook_url=None, *, webhook_secret=..., only_states=...)"
            )
        url = None
    else:
        if webhook_url is not None and not isinstance(webhook_url, (str, SecretStr)):
            raise TypeError(
                f"{owner}: webhook_url takes the URL as a string or SecretStr, got a "
                f"{type(webhook_url).__name__}. To use the notifier as a handler, pass it "
                "bare: state_handlers=[slack_notifier]"
            )
        url = given_secret(webhook_url, "webhook_url", owner)
    if not isinstance(webhook_secret, str) or not webhook_secret:
        raise TypeError(f"{owner}: webhook_secret takes a secret's name, got {webhook_secret!r}")
    if formatter is not None and not callable(formatter):
        raise TypeError(f"{owner}: formatter must be a callable (obj, state), got {formatter!r}")
    notifier = SlackNotifier(
        webhook_url=url,
        webhook_secret=webhook_secret,
        state_filter=StateFilter(only_states, ignore_states, owner=owner),
        formatter=formatter if formatter is not None else slack_message_formatter,
        batch=bool(batch),
        raise_on_error=raise_on_error,
    )
    if handler_form:
        return notifier(webhook_url, old_state, new_state)
    return notifier


# Used bare as a handler, slack_notifier returns a coroutine: let the engine await it on
# the loop instead of calling it in a worker thread.
slack_notifier._asyncflow_awaitable_ = True  # type: ignore[attr-defined]
