"""webhook_notifier: a JSON POST of each state change, to any endpoint."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest

from asyncflow._core._context import FlowRunContext
from asyncflow.notifications import NotificationError, webhook_notifier, webhook_payload
from asyncflow.secrets import SecretStr
from asyncflow.states import Failed, Pending, Retrying, Running, Success
from tests.servers.slack import FakeSlack, Reply

from .helpers import Named, everything_shown

pytestmark = pytest.mark.anyio

TASK = Named("publish")
ACCEPTED = Reply(202, "accepted")

PAYLOAD_KEYS = {
    "event",
    "object_type",
    "object_name",
    "old_state",
    "new_state",
    "message",
    "flow_name",
    "flow_run_id",
    "task_name",
    "task_run_id",
    "map_index",
    "run_count",
    "next_attempt_at",
    "color",
    "timestamp",
}


async def test_posts_the_documented_payload(slack: FakeSlack, flow_run: FlowRunContext) -> None:
    url = slack.route("/hooks/ops", ACCEPTED)
    when = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)

    await webhook_notifier(url)(
        TASK, Failed(), Retrying("try again", result=KeyError("id"), start_time=when, run_count=1)
    )
    await flow_run.resources.aclose()  # the run's end waits for its alerts

    [request] = slack.requests
    payload = request.payload
    assert set(payload) == PAYLOAD_KEYS
    assert payload["event"] == "state_change"
    assert (payload["object_type"], payload["object_name"]) == ("task", "publish")
    assert (payload["old_state"], payload["new_state"]) == ("Failed", "Retrying")
    assert payload["message"] == "KeyError('id')"
    assert (payload["flow_name"], payload["flow_run_id"]) == ("nightly", "run-1")
    assert payload["task_name"] == "publish"
    assert payload["run_count"] == 1
    assert payload["next_attempt_at"] == when.isoformat()
    assert datetime.datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
    assert request.headers["Content-Type"].startswith("application/json")


def test_payload_outside_a_run_has_nulls_for_run_facts() -> None:
    payload = webhook_payload(TASK, Pending(), Running("Starting task run."))

    assert payload["message"] == "Starting task run."
    assert payload["flow_run_id"] is None and payload["task_run_id"] is None


async def test_url_from_a_secret_and_extra_headers(
    slack: FakeSlack, flow_run: FlowRunContext
) -> None:
    flow_run.values["secrets"]["OPS_WEBHOOK"] = slack.route("/hooks/ops", ACCEPTED)
    notify = webhook_notifier(
        url_secret="OPS_WEBHOOK",
        headers={"Authorization": SecretStr("Bearer t0k3n"), "X-Team": "data"},
    )

    await notify(TASK, Running(), Success())
    await flow_run.resources.aclose()

    [request] = slack.requests
    assert request.headers["Authorization"] == "Bearer t0k3n"
    assert request.headers["X-Team"] == "data"
    assert "t0k3n" not in repr(notify)
    assert repr(notify) == "WebhookNotifier(url_secret='OPS_WEBHOOK', headers=['Authorization', 'X-Team'])"


async def test_custom_async_formatter(slack: FakeSlack) -> None:
    async def card(obj: Any, old: Any, new: Any) -> dict[str, Any]:
        return {"title": obj.name, "summary": f"{old.name} -> {new.name}"}

    await webhook_notifier(slack.route("/hooks/teams", ACCEPTED), formatter=card)(
        TASK, Running(), Success()
    )

    assert slack.requests[0].payload == {"title": "publish", "summary": "Running -> Success"}


async def test_filters_apply_before_the_secret_is_read() -> None:
    notify = webhook_notifier(url_secret="NOT_SET", ignore_states=[Success])

    assert await notify(TASK, Running(), Success()) is None


async def test_a_formatter_that_raises_is_named(slack: FakeSlack) -> None:
    def broken(obj: Any, old: Any, new: Any) -> Any:
        raise ZeroDivisionError("oops")

    notify = webhook_notifier(slack.route("/hooks/x", ACCEPTED), formatter=broken)

    with pytest.raises(NotificationError, match=r"formatter .*broken raised ZeroDivisionError"):
        await notify(TASK, Running(), Failed())


async def test_errors_name_the_status_but_not_the_url(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.route("/hooks/s3cr3t", Reply(401, "unauthorized"))

    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationError) as caught:
        await webhook_notifier(url)(TASK, Running(), Failed())

    assert str(caught.value) == "webhook answered 401 unauthorized"
    assert "s3cr3t" not in everything_shown(caught.value, caplog)


def test_needs_exactly_one_of_url_and_url_secret() -> None:
    with pytest.raises(TypeError, match="exactly one of url="):
        webhook_notifier()
    with pytest.raises(TypeError, match="exactly one of url="):
        webhook_notifier("https://example.invalid/hook", url_secret="HOOK")
