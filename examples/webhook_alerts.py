"""A JSON webhook on failures and retries, for Teams, Discord, PagerDuty-style receivers
or your own services.

Run: python examples/webhook_alerts.py
 or: asyncflow run examples/webhook_alerts.py

With OPS_WEBHOOK unset, the script starts a local receiver on 127.0.0.1 and says so;
set ASYNCFLOW__CONTEXT__SECRETS__OPS_WEBHOOK to post to a real endpoint. ``asyncflow run``
runs the module's ``flow``: it posts to the configured webhook, and with none configured
prints each alert instead of sending it.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from _receiver import LocalReceiver, is_configured, printed_alert  # beside this file

from asyncflow import Flow, task
from asyncflow.notifications import webhook_notifier
from asyncflow.states import Failed, Retrying, State

ops = webhook_notifier(url_secret="OPS_WEBHOOK", only_states=[Failed, Retrying])


@task(max_retries=1, retry_delay=0.05)
def load_table(rows: int) -> int:
    raise PermissionError(f"cannot write {rows} rows: the table is read-only")


def build(*, post: bool = True) -> Flow:
    """The flow; with ``post=False`` its alerts are printed instead (no webhook needed)."""
    alert = ops if post else printed_alert("OPS_WEBHOOK", only_states=[Failed, Retrying])
    with Flow("nightly-load") as flow:
        load_table(1000, task_args={"state_handlers": (alert,)})
    return flow


flow = build(post=is_configured("OPS_WEBHOOK"))


async def main() -> tuple[State, list[dict[str, Any]]]:
    configured = os.environ.get("ASYNCFLOW__CONTEXT__SECRETS__OPS_WEBHOOK")
    if configured:
        return await build().run(), []
    async with LocalReceiver() as receiver:
        print(f"No OPS_WEBHOOK configured: posting to a local receiver at port {receiver.port}")
        state = await build().run(context={"secrets": {"OPS_WEBHOOK": receiver.url("/hooks/ops")}})
        return state, receiver.received


if __name__ == "__main__":
    final, received = asyncio.run(main())
    print(final)
    for event in received:
        print(f"  {event['object_name']}: {event['old_state']} -> {event['new_state']}: "
              f"{event['message']}")
