"""Email on failure, over STARTTLS with a login, with HTML and plain-text bodies.

Run: python examples/email_alerts.py

Configure a real server with SMTP_HOST / SMTP_PORT and the secrets EMAIL_USERNAME /
EMAIL_PASSWORD (e.g. ASYNCFLOW__CONTEXT__SECRETS__EMAIL_USERNAME). With SMTP_HOST unset,
the example starts the repository's local SMTP test server (aiosmtpd, a throwaway
certificate) on 127.0.0.1 and says so: that needs `pip install -e '.[test]'`.

``asyncflow run examples/email_alerts.py`` runs the module's ``flow``: it mails through
SMTP_HOST when that is set, and otherwise prints each alert instead of sending it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _receiver import printed_alert  # beside this file

from asyncflow import Flow, task
from asyncflow.notifications import email_notifier
from asyncflow.states import Failed, State

REPO = str(Path(__file__).resolve().parents[1])


@task
def reconcile(ledger: str) -> None:
    raise ValueError(f"ledger {ledger!r} is off by 0.01")


def build(**smtp: Any) -> Flow:
    """The flow, mailing through the given server; with no ``smtp_host`` its alerts are
    printed instead."""
    alert: Any = printed_alert("SMTP_HOST", only_states=[Failed])
    if smtp.get("smtp_host"):
        alert = email_notifier("oncall@example.org", only_states=[Failed],
                               sender="asyncflow@example.org", **smtp)
    with Flow("month-end", state_handlers=[alert]) as flow:
        reconcile("2026-10", task_args={"state_handlers": (alert,)})  # the task and the flow
    return flow


def configured_smtp() -> dict[str, Any]:
    """The server named by SMTP_HOST / SMTP_PORT, or nothing."""
    if not os.environ.get("SMTP_HOST"):
        return {}
    return {"smtp_host": os.environ["SMTP_HOST"],
            "smtp_port": int(os.environ.get("SMTP_PORT", "587"))}


flow = build(**configured_smtp())


async def main() -> tuple[State, list[Any]]:
    if os.environ.get("SMTP_HOST"):
        return await flow.run(), []
    sys.path.insert(0, REPO)
    from tests.servers.smtp import FakeSMTP
    from tests.servers.tls import self_signed

    with tempfile.TemporaryDirectory(prefix="asyncflow-tls-") as certificates:
        tls = self_signed(Path(certificates))
        async with FakeSMTP(tls, users={"alerts": "s3cret"}) as server:
            print(f"No SMTP_HOST configured: sending to a local SMTP server at port "
                  f"{server.port}")
            local = build(smtp_host="127.0.0.1", smtp_port=server.port,
                          tls_context=tls.client_context())
            state = await local.run(context={"secrets": {"EMAIL_USERNAME": "alerts",
                                                         "EMAIL_PASSWORD": "s3cret"}})
            return state, list(server.messages)


if __name__ == "__main__":
    final, mails = asyncio.run(main())
    print(final)
    for mail in mails:
        print(f"  mail to {mail.rcpt_tos}: {mail.message['Subject']}")
