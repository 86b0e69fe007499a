"""Email notifications over SMTP with TLS or STARTTLS, sent with aiosmtplib (async)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal

from .._core._exceptions import MissingExtraError, NotificationError
from .._core._states import State
from .._secrets import SecretStr, redact
from ._filters import StateClasses, StateFilter
from ._formatting import email_content
from ._notifier import Notifier, Outgoing, call_formatter, formatter_name, secret_text
from ._sender import Alert, Outcome, Verdict
from ._settings import NotificationSettings

if TYPE_CHECKING:
    import ssl

EmailFormatter = Callable[[Any, State], Any]
Security = Literal["starttls", "tls"]

DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465}


def _aiosmtplib() -> Any:
    try:
        return import_module("aiosmtplib")
    except ImportError:
        raise MissingExtraError("email_notifier", "notify", "aiosmtplib") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def build_message(content: Any, sender: str, to: Sequence[str], what: str) -> EmailMessage:
    """An EmailMessage from a formatter's ``{"subject", "text", "html"?}`` mapping."""
    if not isinstance(content, Mapping) or not isinstance(content.get("subject"), str) or not (
        isinstance(content.get("text"), str)
    ):
        raise NotificationError(
            f"{what} must return a mapping with string 'subject' and 'text' keys "
            f"(and optionally 'html'), got {type(content).__name__}"
        )
    html = content.get("html")
    if html is not None and not isinstance(html, str):
        raise NotificationError(f"{what} returned an 'html' body that is not a string")
    message = EmailMessage()
    message["Subject"] = _one_line(content["subject"])
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(content["text"])
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: host, port, how the connection is encrypted."""

    host: str
    port: int
    security: Security
    tls_context: ssl.SSLContext | None = field(default=None, compare=False)


# SMTP's "try again later" answers: service not available, mailbox busy, local error,
# too many messages. A rate limit, not a failure.
SLOW_DOWN_CODES = frozenset({421, 450, 451, 452})
# The login was refused: every message to this account would be too.
LOGIN_REFUSED_CODES = frozenset({530, 534, 535})


class SmtpChannel:
    """One SMTP account: one message per alert, sent with ``aiosmtplib.send``."""

    kind = "Email notification"
    batches = False

    def __init__(
        self, server: SmtpServer, login: tuple[SecretStr | None, SecretStr | None], rcpts: int
    ) -> None:
        self.server = server
        self.login = login
        self.rcpts = rcpts

    def interval(self, settings: NotificationSettings) -> float:
        return 0.0

    async def send(self, alerts: Sequence[Alert], settings: NotificationSettings) -> Outcome:
        aiosmtplib = _aiosmtplib()
        server = self.server
        username, password = self.login
        where = f"SMTP server {server.host}:{server.port} ({server.security})"
        try:
            await aiosmtplib.send(
                alerts[0].message,
                hostname=server.host,
                port=server.port,
                username=username.get_secret_value() if username is not None else None,
                password=password.get_secret_value() if password is not None else None,
                use_tls=server.security == "tls",
                start_tls=server.security == "starttls",
                tls_context=server.tls_context,
                timeout=settings.timeout,
            )
            return Outcome(Verdict.DELIVERED)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            # Described, not chained: the server's answer may quote the credentials.
            code = getattr(exc, "code", None)
            failure = redact(f"{type(exc).__name__}: {exc}", username, password)
            transient = isinstance(
                exc,
                (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected,
                 aiosmtplib.SMTPTimeoutError, OSError, asyncio.TimeoutError),
            )
        status = code if isinstance(code, int) else None
        description = f"email to {self.rcpts} recipient(s) via {where} failed: {failure}"
        if status in SLOW_DOWN_CODES:
            return Outcome(Verdict.SLOW_DOWN, description, status)
        if transient and status is None:
            return Outcome(Verdict.RETRY, description)
        gone = status is None or status in LOGIN_REFUSED_CODES
        return Outcome(Verdict.FAILED, description, status, receiver_gone=gone)


class EmailNotifier(Notifier):
    """A state handler sending an email (made by :func:`email_notifier`)."""

    kind = "Email notification"

    def __init__(
        self,
        *,
        to: tuple[str, ...],
        smtp_host: str,
        smtp_port: int,
        security: Security,
        sender: str | None,
        username_secret: str | None,
        password_secret: str | None,
        tls_context: ssl.SSLContext | None,
        state_filter: StateFilter,
        formatter: EmailFormatter,
        raise_on_error: bool,
    ) -> None:
        super().__init__(state_filter, raise_on_error=raise_on_error)
        self.to = to
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.security = security
        self.sender = sender
        self.username_secret = username_secret
        self.password_secret = password_secret
        self.tls_context = tls_context
        self.formatter = formatter

    async def prepare(self, obj: Any, old_state: State, new_state: State) -> Outgoing:
        _aiosmtplib()
        username: SecretStr | None = None
        password: SecretStr | None = None
        if self.username_secret is not None:
            username = secret_text(self.username_secret, "the SMTP user name")
        if self.password_secret is not None:
            password = secret_text(self.password_secret, "the SMTP password")
        sender = self.sender
        if sender is None:
            if username is None or "@" not in username.get_secret_value():
                raise NotificationError(
                    "email_notifier needs sender= (the From address) when the SMTP user "
                    "name is not an email address"
                )
            sender = username.get_secret_value()
        what = f"the email formatter {formatter_name(self.formatter)}"
        content = await call_formatter(self.formatter, obj, new_state)
        message = build_message(content, sender, self.to, what)
        login = (username, password)
        server = SmtpServer(self.smtp_host, self.smtp_port, self.security, self.tls_context)
        account = None if username is None else username.get_secret_value()
        return Outgoing(
            key=("smtp", server, account),
            channel=lambda: SmtpChannel(server, login, len(self.to)),
            message=message,
        )

    def _options(self) -> list[str]:
        options = [
            repr(list(self.to)),
            f"smtp_host={self.smtp_host!r}",
            f"smtp_port={self.smtp_port}",
            f"security={self.security!r}",
        ]
        if self.formatter is not email_content:
            options.append(f"formatter={formatter_name(self.formatter)}")
        return options


def email_notifier(
    to: str | Sequence[str],
    *,
    smtp_host: str,
    smtp_port: int | None = None,
    security: Security = "starttls",
    sender: str | None = None,
    username_secret: str | None = "EMAIL_USERNAME",
    password_secret: str | None = "EMAIL_PASSWORD",
    tls_context: ssl.SSLContext | None = None,
    only_states: StateClasses = None,
    ignore_states: StateClasses = None,
    formatter: EmailFormatter | None = None,
    raise_on_error: bool = True,
) -> EmailNotifier:
    """A state handler that emails each reported state change, with HTML and plain text.

    - ``to``: one address or several.
    - ``smtp_host``, ``smtp_port`` (default 587 for STARTTLS, 465 for TLS) and
      ``security``: ``"starttls"`` (upgrade a plain connection; refused if the server
      does not offer it) or ``"tls"`` (TLS from the first byte). ``tls_context``: an
      ``ssl.SSLContext`` to trust a private CA.
    - Credentials come from the secrets ``EMAIL_USERNAME`` and ``EMAIL_PASSWORD`` (change
      the names with ``username_secret`` / ``password_secret``; None skips login).
    - ``sender``: the From address; by default the user name, when it is an address.
    - ``only_states`` / ``ignore_states``: as for the other notifiers, checked before any
      secret is read.
    - ``formatter``: ``(obj, state) -> {"subject": str, "text": str, "html": str | None}``
      (sync or async).
    - ``raise_on_error``: raise ``NotificationError`` on failure (default), failing the
      task, or log it and go on.

    Mail to one server and account goes out one message at a time; SMTP's "try again
    later" answers (421, 450, 451, 452) are waited out, never a failure, and a flow run
    waits for its alerts when it ends, as for :func:`~asyncflow.notifications.slack_notifier`.
    """
    owner = "email_notifier"
    recipients = (to,) if isinstance(to, str) else tuple(to)
    if not recipients or not all(isinstance(r, str) and "@" in r for r in recipients):
        raise TypeError(f"{owner}: to takes one email address or a list of them, got {to!r}")
    if not isinstance(smtp_host, str) or not smtp_host:
        raise TypeError(f"{owner}: smtp_host takes the SMTP server's host name")
    if security not in DEFAULT_PORTS:
        raise ValueError(
            f"{owner}: security must be 'starttls' or 'tls', got {security!r}; "
            "asyncflow does not send credentials over unencrypted SMTP"
        )
    if formatter is not None and not callable(formatter):
        raise TypeError(f"{owner}: formatter must be a callable (obj, state), got {formatter!r}")
    return EmailNotifier(
        to=recipients,
        smtp_host=smtp_host,
        smtp_port=smtp_port if smtp_port is not None else DEFAULT_PORTS[security],
        security=security,
        sender=sender,
        username_secret=username_secret,
        password_secret=password_secret,
        tls_context=tls_context,
        state_filter=StateFilter(only_states, ignore_states, owner=owner),
        formatter=formatter if formatter is not None else email_content,
        raise_on_error=raise_on_error,
    )
