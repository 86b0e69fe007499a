"""A local SMTP server (aiosmtpd) on 127.0.0.1 and a free port, in the test's event loop.

It speaks STARTTLS (``mode="starttls"``) or TLS from the first byte (``mode="tls"``),
requires AUTH with the given users once the connection is encrypted, and records every
message it accepts::

    async with FakeSMTP(tls, users={"bot@example.com": "hunter2"}) as smtp:
        ...  # send to 127.0.0.1:smtp.port
        smtp.messages[0].message["Subject"]
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .tls import TLSFiles


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, owner: FakeSMTP) -> None:
        self.owner = owner

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        self.owner.messages.append(
            ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), parsed)
        )
        return "250 Message accepted for delivery"


class FakeSMTP:
    """An SMTP server for tests; ``port`` is set once it is entered."""

    def __init__(
        self,
        tls: TLSFiles | None,
        *,
        mode: Literal["starttls", "tls", "plain"] = "starttls",
        users: dict[str, str] | None = None,
    ) -> None:
        self.tls = tls
        self.mode = mode
        self.users = dict(users or {})
        self.messages: list[ReceivedMail] = []
        self.logins: list[tuple[str, bool]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode()
        ok = self.users.get(login) == data.password.decode()
        self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)

    def _protocol(self) -> SMTP:
        context = self.tls.server_context() if self.tls is not None else None
        with warnings.catch_warnings():
            # With TLS from the first byte, aiosmtpd does not see that AUTH is encrypted
            # and warns "Requiring AUTH while not requiring TLS": not true here.
            warnings.simplefilter("ignore", UserWarning)
            return self._make_smtp(context)

    def _make_smtp(self, context: ssl.SSLContext | None) -> SMTP:
        return SMTP(
            _Handler(self),
            hostname="localhost",
            tls_context=context if self.mode == "starttls" else None,
            require_starttls=self.mode == "starttls",
            auth_required=bool(self.users),
            auth_require_tls=self.mode == "starttls",
            authenticator=self._authenticate,
            loop=asyncio.get_running_loop(),
        )

    async def __aenter__(self) -> FakeSMTP:
        ssl_context = None
        if self.mode == "tls":
            assert self.tls is not None, "mode='tls' needs TLS files"
            ssl_context = self.tls.server_context()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host="127.0.0.1", port=0, ssl=ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
