"""email_notifier against a local aiosmtpd server speaking STARTTLS or TLS."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from asyncflow._core._context import FlowRunContext
from asyncflow.notifications import NotificationDeliveryError, email_notifier
from asyncflow.states import Failed, Running, Success
from tests.servers.smtp import FakeSMTP
from tests.servers.tls import TLSFiles

from .helpers import Named, everything_shown

pytestmark = pytest.mark.anyio

TASK = Named("nightly_report")
USER = "bot@example.com"
PASSWORD = "c0rrect-h0rse"


@pytest.fixture
async def smtp(tls_files: TLSFiles) -> AsyncIterator[FakeSMTP]:
    async with FakeSMTP(tls_files, mode="starttls", users={USER: PASSWORD}) as server:
        yield server


@pytest.fixture
def credentials(flow_run: FlowRunContext) -> FlowRunContext:
    flow_run.values["secrets"].update({"EMAIL_USERNAME": USER, "EMAIL_PASSWORD": PASSWORD})
    return flow_run


async def test_starttls_with_login_sends_plain_and_html(
    smtp: FakeSMTP, tls_files: TLSFiles, credentials: FlowRunContext
) -> None:
    notify = email_notifier(
        ["oncall@example.com", "data@example.com"],
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        tls_context=tls_files.client_context(),
    )

    await notify(TASK, Running(), Failed("Task run failed.", result=ValueError("<b>bad</b>")))
    await credentials.resources.aclose()  # the run's end waits for its alerts

    assert smtp.logins == [(USER, True)]
    [mail] = smtp.messages
    assert mail.mail_from == USER
    assert mail.rcpt_tos == ["oncall@example.com", "data@example.com"]
    assert mail.message["Subject"] == "[asyncflow] task nightly_report: Failed"
    plain = mail.message.get_body(("plain",))
    html = mail.message.get_body(("html",))
    assert plain is not None and html is not None
    assert "nightly_report is now in a Failed state" in plain.get_content()
    assert "&lt;b&gt;bad&lt;/b&gt;" in html.get_content()  # escaped
    assert "run-1" in plain.get_content()


async def test_implicit_tls(tls_files: TLSFiles, credentials: FlowRunContext) -> None:
    async with FakeSMTP(tls_files, mode="tls", users={USER: PASSWORD}) as server:
        notify = email_notifier(
            "oncall@example.com",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            security="tls",
            tls_context=tls_files.client_context(),
        )
        await notify(TASK, Running(), Success())
        await credentials.resources.aclose()

    assert server.logins == [(USER, True)]
    assert len(server.messages) == 1


async def test_a_wrong_password_fails_without_showing_it(
    smtp: FakeSMTP,
    tls_files: TLSFiles,
    flow_run: FlowRunContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow_run.values["secrets"].update({"EMAIL_USERNAME": USER, "EMAIL_PASSWORD": "wr0ng-pw"})
    notify = email_notifier(
        "oncall@example.com",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        tls_context=tls_files.client_context(),
    )

    with caplog.at_level(logging.DEBUG):
        await notify(TASK, Running(), Failed())
        await flow_run.resources.aclose()

    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "1 of 1 alerts" in record.getMessage()
    assert "SMTPAuthenticationError" in record.getMessage()
    assert "535" in record.getMessage()
    assert "wr0ng-pw" not in caplog.text
    assert smtp.messages == []


async def test_outside_a_run_a_wrong_password_raises_without_showing_it(
    smtp: FakeSMTP, tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__EMAIL_USERNAME", USER)
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__EMAIL_PASSWORD", "wr0ng-pw")
    notify = email_notifier(
        "oncall@example.com",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        tls_context=tls_files.client_context(),
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationDeliveryError) as caught:
        await notify(TASK, Running(), Failed())

    assert "SMTPAuthenticationError" in str(caught.value)
    assert caught.value.status == 535
    assert "wr0ng-pw" not in everything_shown(caught.value, caplog)
    assert smtp.messages == []


async def test_no_downgrade_when_the_server_offers_no_starttls(
    tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__EMAIL_USERNAME", USER)
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__EMAIL_PASSWORD", PASSWORD)
    async with FakeSMTP(None, mode="plain") as server:
        notify = email_notifier(
            "oncall@example.com",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            tls_context=tls_files.client_context(),
        )
        with pytest.raises(NotificationDeliveryError, match="STARTTLS"):
            await notify(TASK, Running(), Failed())

    assert server.messages == []


async def test_filters_apply_before_the_credentials_are_read() -> None:
    notify = email_notifier("oncall@example.com", smtp_host="127.0.0.1", only_states=[Failed])

    assert await notify(TASK, Running(), Success()) is None  # no EMAIL_* secret anywhere


async def test_without_login_the_sender_must_be_given(
    tls_files: TLSFiles,
) -> None:
    async with FakeSMTP(tls_files, mode="starttls") as server:
        notify = email_notifier(
            "oncall@example.com",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            sender="asyncflow@example.com",
            username_secret=None,
            password_secret=None,
            tls_context=tls_files.client_context(),
        )
        await notify(TASK, Running(), Success())

    assert server.messages[0].mail_from == "asyncflow@example.com"


def test_unencrypted_smtp_is_refused() -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        email_notifier("a@example.com", smtp_host="x", security="none")  # type: ignore[arg-type]
