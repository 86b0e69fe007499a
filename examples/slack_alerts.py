"""Slack alerts from state handlers: every finished state, retries with their next
attempt time, a special failure mode, several handlers in order, and callback_factory.

Run: python examples/slack_alerts.py
 or: asyncflow run examples/slack_alerts.py

With SLACK_WEBHOOK_URL unset, the script starts a local stand-in for Slack's incoming
webhooks on 127.0.0.1 and says so; set ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL to
post to a real channel. ``asyncflow run`` runs the module's ``flow``: it posts to the
configured webhook, and with none configured prints each alert instead of sending it.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from typing import Any

import aiohttp
from _receiver import LocalReceiver, is_configured, printed_alert  # beside this file

from asyncflow import Flow, signals, task
from asyncflow.notifications import callback_factory, slack_notifier
from asyncflow.secrets import Secret
from asyncflow.states import Failed, Finished, Retrying, State


async def send_post(task: Any, state: State) -> None:
    """The seeds' retry alert, as an async POST that does not block the loop."""
    assert isinstance(state, Retrying)
    msg = f"Task {task} failed and is retrying at {state.start_time:%H:%M:%S}"
    async with aiohttp.ClientSession() as session:
        url = Secret("SLACK_WEBHOOK_URL").get_text().get_secret_value()
        async with session.post(url, json={"text": msg}) as response:
            response.raise_for_status()


post_on_retry = callback_factory(send_post, lambda s: s.is_retrying())


def alert_on_special_failure(task: Any, old_state: State, new_state: State) -> State:
    if new_state.is_failed() and getattr(new_state.result, "flag", False) is True:
        print(f"Special failure mode in {task.name}! a == b == {new_state.result.value}")
    return new_state


attempts: dict[str, int] = {}


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.1))
async def flaky_download() -> int:
    attempts["download"] = attempts.get("download", 0) + 1
    if attempts["download"] == 1:
        raise ConnectionError("the server hung up")
    return 42


@task
def mission_critical_task(a: int, b: int) -> float:
    if a == b:
        fail_signal = signals.FAIL("a equaled b!")
        fail_signal.flag = True  # type: ignore[attr-defined]
        fail_signal.value = a  # type: ignore[attr-defined]
        raise fail_signal
    return 1 / (b - a)


def build(*, post: bool = True) -> Flow:
    """The flow; with ``post=False`` its alerts are printed instead (no webhook needed)."""

    def alerts(only_states: list[type[State]] | None = None) -> Any:
        if post:
            return slack_notifier(only_states=only_states)
        return printed_alert("SLACK_WEBHOOK_URL", only_states=only_states)

    with Flow("slack-alerts", state_handlers=[alerts()]) as flow:
        retry_alerts = (post_on_retry,) if post else ()
        flaky_download(task_args={
            "state_handlers": (alerts([Finished, Retrying]), *retry_alerts)})
        mission_critical_task(1, 1, task_args={
            "state_handlers": (alert_on_special_failure, alerts([Failed]))})
    return flow


flow = build(post=is_configured("SLACK_WEBHOOK_URL"))


async def main(webhook_url: str | None = None) -> tuple[State, list[dict[str, Any]]]:
    configured = webhook_url or os.environ.get("ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL")
    if configured:
        state = await build().run(context={"secrets": {"SLACK_WEBHOOK_URL": configured}})
        return state, []
    async with LocalReceiver() as slack:
        print(f"No Slack webhook configured: posting to a local stand-in at port {slack.port}")
        state = await build().run(context={"secrets": {"SLACK_WEBHOOK_URL": slack.url()}})
        return state, slack.received


if __name__ == "__main__":
    final, received = asyncio.run(main())
    print(final)
    for payload in received:
        print("  posted:", payload.get("text"))
