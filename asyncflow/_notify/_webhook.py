"""Generic webhooks: a JSON POST of each state change (Teams, Discord, internal services)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._core._states import State
from .._secrets import SecretStr
from ._filters import StateClasses, StateFilter
from ._formatting import webhook_payload
from ._http import HttpChannel, encode_json
from ._notifier import (
    Notifier,
    Outgoing,
    call_formatter,
    formatter_name,
    given_secret,
    secret_text,
)

WebhookFormatter = Callable[[Any, State, State], Any]


class WebhookNotifier(Notifier):
    """A state handler posting JSON to a URL (made by :func:`webhook_notifier`)."""

    kind = "Webhook notification"

    def __init__(
        self,
        *,
        url: SecretStr | None,
        url_secret: str | None,
        state_filter: StateFilter,
        formatter: WebhookFormatter,
        headers: Mapping[str, str | SecretStr],
        raise_on_error: bool,
    ) -> None:
        super().__init__(state_filter, raise_on_error=raise_on_error)
        self.url = url
        self.url_secret = url_secret
        self.formatter = formatter
        self.headers = dict(headers)

    async def prepare(self, obj: Any, old_state: State, new_state: State) -> Outgoing:
        url = self.url
        if url is None:
            assert self.url_secret is not None
            url = secret_text(self.url_secret, "the webhook URL")
        payload = await call_formatter(self.formatter, obj, old_state, new_state)
        body = encode_json(payload, f"the webhook formatter {formatter_name(self.formatter)}")
        headers = {
            key: value.get_secret_value() if isinstance(value, SecretStr) else value
            for key, value in self.headers.items()
        }
        tokens = tuple(
            value.get_secret_value()
            for value in self.headers.values()
            if isinstance(value, SecretStr)
        )
        endpoint = url
        return Outgoing(
            key=("webhook", url.get_secret_value(), tuple(sorted(headers.items()))),
            channel=lambda: HttpChannel(
                kind=self.kind, service="webhook", url=endpoint, headers=headers,
                also_secret=tokens,
            ),
            message=body,
        )

    def _options(self) -> list[str]:
        options = [f"url={self.url}" if self.url is not None else f"url_secret={self.url_secret!r}"]
        if self.headers:
            # Header values (tokens, signatures) are never shown.
            options.append(f"headers=[{', '.join(repr(k) for k in self.headers)}]")
        if self.formatter is not webhook_payload:
            options.append(f"formatter={formatter_name(self.formatter)}")
        return options


def webhook_notifier(
    url: str | SecretStr | None = None,
    *,
    url_secret: str | None = None,
    only_states: StateClasses = None,
    ignore_states: StateClasses = None,
    formatter: WebhookFormatter | None = None,
    headers: Mapping[str, str | SecretStr] | None = None,
    raise_on_error: bool = True,
) -> WebhookNotifier:
    """A state handler that POSTs each reported state change as JSON to a URL.

    - ``url``: the endpoint (a string or SecretStr), or ``url_secret``: the name of the
      secret holding it, read at each notification. Exactly one is required.
    - ``only_states`` / ``ignore_states``: State classes to report / not to report
      (subclasses match), checked before any secret is read.
    - ``formatter``: ``(obj, old_state, new_state) -> payload`` (sync or async); the
      default is :func:`webhook_payload`, whose docstring documents the body.
    - ``headers``: extra request headers; values may be SecretStr (e.g. a bearer token),
      and are never shown in a repr or a log line.
    - ``raise_on_error``: raise ``NotificationError`` on a failed delivery (default),
      failing the task, or log it and go on.

    Messages to one URL go out one at a time through its paced sender: a ``429`` is
    waited out (``Retry-After``), never a failure, and a flow run waits for its alerts
    when it ends. Retries, timeouts and the shared session are those of every HTTP
    notifier: see :func:`~asyncflow.notifications.slack_notifier`.
    """
    owner = "webhook_notifier"
    if (url is None) == (url_secret is None):
        raise TypeError(
            f"{owner} needs exactly one of url= (the endpoint) or url_secret= (the name of "
            "the secret that holds it)"
        )
    if url_secret is not None and (not isinstance(url_secret, str) or not url_secret):
        raise TypeError(f"{owner}: url_secret takes a secret's name, got {url_secret!r}")
    if formatter is not None and not callable(formatter):
        raise TypeError(
            f"{owner}: formatter must be a callable (obj, old_state, new_state), "
            f"got {formatter!r}"
        )
    for key, value in (headers or {}).items():
        if not isinstance(key, str) or not isinstance(value, (str, SecretStr)):
            raise TypeError(f"{owner}: headers maps names to strings or SecretStr values")
    return WebhookNotifier(
        url=given_secret(url, "url", owner),
        url_secret=url_secret,
        state_filter=StateFilter(only_states, ignore_states, owner=owner),
        formatter=formatter if formatter is not None else webhook_payload,
        headers=headers or {},
        raise_on_error=raise_on_error,
    )
