"""slack_notifier against a local server that answers like Slack's incoming webhooks."""

from __future__ import annotations

import asyncio
import datetime
import functools
import logging
import socket
from typing import Any

import aiohttp
import anyio
import pytest

from asyncflow._core._context import FlowRunContext
from asyncflow._core._exceptions import SecretNotFoundError
from asyncflow._notify import _http
from asyncflow.notifications import (
    NotificationDeliveryError,
    NotificationError,
    slack_message_formatter,
    slack_notifier,
)
from asyncflow.secrets import SecretStr
from asyncflow.states import Failed, Pending, Retrying, Running, Success, TimedOut
from tests.servers.slack import FakeSlack, Reply

from .helpers import Named, everything_shown

pytestmark = pytest.mark.anyio

TASK = Named("load_orders")


# ---- the two call forms -------------------------------------------------------------
async def test_bare_notifier_posts_to_the_url_in_the_run_secrets(
    slack: FakeSlack, flow_run: FlowRunContext
) -> None:
    flow_run.values["secrets"]["SLACK_WEBHOOK_URL"] = slack.url()

    returned = await slack_notifier(TASK, Running(), Success("done"))
    await flow_run.resources.aclose()  # the run's end waits for its alerts

    assert returned is None  # the proposed state stands
    [payload] = slack.payloads
    assert payload["text"] == "`load_orders` is now in a `Success` state"


async def test_bare_notifier_outside_a_run_reads_the_environment(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL", slack.url())

    await slack_notifier(TASK, Running(), Failed("boom"))

    assert [r.status for r in slack.requests] == [200]


async def test_configured_notifier_takes_a_plain_url(slack: FakeSlack) -> None:
    notify = slack_notifier(slack.url())

    await notify(TASK, Pending(), Running())

    assert len(slack.payloads) == 1


async def test_configured_notifier_reads_its_own_secret(
    slack: FakeSlack, flow_run: FlowRunContext
) -> None:
    flow_run.values["secrets"]["OPS_HOOK"] = slack.url()

    await slack_notifier(webhook_secret="OPS_HOOK")(TASK, Running(), Success())
    await flow_run.resources.aclose()

    assert len(slack.payloads) == 1


async def test_partial_application_works_as_in_prefect(slack: FakeSlack) -> None:
    notify = functools.partial(slack_notifier, webhook_secret="X", only_states=[Failed])

    # Success is filtered out before the (missing) secret X is looked up.
    assert await notify(TASK, Running(), Success()) is None


def test_calling_with_non_states_explains_both_forms() -> None:
    with pytest.raises(TypeError, match=r"slack_notifier\(obj, old_state, new_state\)"):
        slack_notifier(TASK, "Running", "Success")  # type: ignore[call-overload]


def test_a_non_url_first_argument_points_to_the_bare_form() -> None:
    with pytest.raises(TypeError, match=r"state_handlers=\[slack_notifier\]"):
        slack_notifier(TASK)  # type: ignore[call-overload]


def test_options_are_validated_when_the_notifier_is_made() -> None:
    with pytest.raises(TypeError, match=r"only_states=\[Failed\]"):
        slack_notifier(only_states=[Failed()])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="State classes"):
        slack_notifier(ignore_states=["Failed"])  # type: ignore[list-item]


# ---- filters --------------------------------------------------------------------------
async def test_only_states_matches_subclasses(slack: FakeSlack) -> None:
    notify = slack_notifier(slack.url(), only_states=[Failed])

    await notify(TASK, Running(), Success())
    await notify(TASK, Running(), TimedOut("too slow"))

    assert [p["attachments"][0]["title"] for p in slack.payloads] == ["TimedOut"]


async def test_ignore_states_matches_subclasses(slack: FakeSlack) -> None:
    notify = slack_notifier(slack.url(), ignore_states=[Pending])

    await notify(TASK, Failed(), Retrying(start_time=datetime.datetime.now()))
    await notify(TASK, Retrying(), Running())

    assert [p["attachments"][0]["title"] for p in slack.payloads] == ["Running"]


async def test_an_ignored_state_never_needs_the_secret() -> None:
    notify = slack_notifier(only_states=[Failed])  # SLACK_WEBHOOK_URL is set nowhere

    assert await notify(TASK, Pending(), Running()) is None


async def test_a_reported_state_with_a_missing_secret_names_the_variable_to_set() -> None:
    with pytest.raises(SecretNotFoundError, match="ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL"):
        await slack_notifier(TASK, Running(), Failed())


# ---- the payload ----------------------------------------------------------------------
async def test_payload_has_blocks_text_and_the_classic_attachment(
    slack: FakeSlack, flow_run: FlowRunContext
) -> None:
    error = ValueError("bad row 7")

    await slack_notifier(slack.url())(
        TASK, Running(), Failed("Task run failed.", result=error, map_index=3, run_count=2)
    )
    await flow_run.resources.aclose()

    [payload] = slack.payloads
    assert payload["blocks"][0]["text"]["text"] == payload["text"]
    [attachment] = payload["attachments"]
    assert attachment["color"] == Failed.color
    assert attachment["title"] == "Failed"
    assert attachment["text"] == "`load_orders` is now in a `Failed` state"
    assert attachment["author_name"] == "asyncflow"
    assert "asyncflow" in attachment["footer"]
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Message"] == "```ValueError('bad row 7')```"
    assert fields["Flow"] == "nightly"
    assert fields["Flow run id"] == "run-1"
    assert fields["Map index"] == "3"
    assert fields["Run count"] == "2"


async def test_message_field_is_the_state_message_without_an_exception(
    slack: FakeSlack,
) -> None:
    await slack_notifier(slack.url())(TASK, Running(), Success("All <good> & done"))

    fields = {f["title"]: f["value"] for f in slack.payloads[0]["attachments"][0]["fields"]}
    assert fields["Message"] == "All &lt;good&gt; &amp; done"  # escaped for Slack mrkdwn


async def test_retrying_shows_the_next_attempt_time(slack: FakeSlack) -> None:
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

    await slack_notifier(slack.url())(
        TASK, Failed(), Retrying("again", start_time=when, run_count=1)
    )

    fields = {f["title"]: f["value"] for f in slack.payloads[0]["attachments"][0]["fields"]}
    assert fields["Next attempt"] == when.isoformat()


def test_formatter_outside_a_run_leaves_run_facts_out() -> None:
    payload = slack_message_formatter(TASK, Success())

    titles = [f["title"] for f in payload["attachments"][0]["fields"]]
    assert titles == []
    assert payload["text"] == "`load_orders` is now in a `Success` state"


async def test_a_custom_formatter_replaces_the_payload(slack: FakeSlack) -> None:
    async def short(obj: Any, state: Any) -> dict[str, Any]:
        return {"text": f"{obj.name}: {state.name}"}

    await slack_notifier(slack.url(), formatter=short)(TASK, Running(), Success())

    assert slack.payloads == [{"text": "load_orders: Success"}]


# ---- Slack's error answers ----------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "status", "body"),
    [
        (Reply.invalid_token(), 403, "invalid_token"),
        (Reply.channel_not_found(), 404, "channel_not_found"),
        (Reply.channel_is_archived(), 410, "channel_is_archived"),
    ],
)
async def test_client_errors_are_reported_and_not_retried(
    slack: FakeSlack, reply: Reply, status: int, body: str
) -> None:
    url = slack.route("/services/T/B/broken", reply)

    with pytest.raises(NotificationDeliveryError) as caught:
        await slack_notifier(url)(TASK, Running(), Failed())

    assert str(caught.value) == f"Slack webhook answered {status} {body}"
    assert (caught.value.status, caught.value.body, caught.value.attempts) == (status, body, 1)
    assert len(slack.requests) == 1


async def test_a_payload_that_is_not_an_object_is_invalid_payload(slack: FakeSlack) -> None:
    notify = slack_notifier(slack.url(), formatter=lambda obj, state: ["not", "an", "object"])

    with pytest.raises(NotificationError, match="400 invalid_payload"):
        await notify(TASK, Running(), Failed())


async def test_a_payload_without_text_is_no_text(slack: FakeSlack) -> None:
    notify = slack_notifier(slack.url(), formatter=lambda obj, state: {"username": "bot"})

    with pytest.raises(NotificationError, match="400 no_text"):
        await notify(TASK, Running(), Failed())


async def test_a_formatter_returning_non_json_fails_before_any_request(
    slack: FakeSlack,
) -> None:
    notify = slack_notifier(slack.url(), formatter=lambda obj, state: {"text": object()})

    with pytest.raises(NotificationError, match="not JSON"):
        await notify(TASK, Running(), Failed())
    assert slack.requests == []


async def test_server_errors_are_retried_until_success(slack: FakeSlack) -> None:
    url = slack.route(
        "/services/T/B/flaky", Reply.rollup_error(), Reply.rollup_error(), Reply.ok()
    )

    await slack_notifier(url)(TASK, Running(), Failed())

    assert [r.status for r in slack.requests] == [500, 500, 200]


async def test_server_errors_give_up_after_max_attempts(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__MAX_ATTEMPTS", "3")
    url = slack.route("/services/T/B/down", Reply.rollup_error())

    with pytest.raises(NotificationDeliveryError) as caught:
        await slack_notifier(url)(TASK, Running(), Failed())

    assert str(caught.value) == "Slack webhook answered 500 rollup_error (gave up after 3 attempts)"
    assert len(slack.requests) == 3


async def test_rate_limit_waits_for_retry_after(slack: FakeSlack) -> None:
    url = slack.route("/services/T/B/busy", Reply.rate_limited(0.2), Reply.ok())

    await slack_notifier(url)(TASK, Running(), Failed())

    first, second = slack.requests
    assert (first.status, second.status) == (429, 200)
    assert second.received_at - first.received_at >= 0.2


async def test_rate_limit_beyond_max_retry_after_gives_up_at_once(slack: FakeSlack) -> None:
    url = slack.route("/services/T/B/busy", Reply.rate_limited(120), Reply.ok())

    with pytest.raises(NotificationDeliveryError, match=r"429 rate_limited.*max_retry_after"):
        await slack_notifier(url)(TASK, Running(), Failed())
    assert len(slack.requests) == 1


async def test_no_answer_within_the_timeout_is_retried_then_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__TIMEOUT", "0.05")
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__MAX_ATTEMPTS", "2")
    async with FakeSlack(delay=0.3) as slow:
        with pytest.raises(NotificationDeliveryError, match=r"no answer within 0\.05s") as caught:
            await slack_notifier(slow.url())(TASK, Running(), Failed())
        assert caught.value.status is None
        assert len(slow.requests) == 2


# ---- raise_on_error -------------------------------------------------------------------
async def test_raise_on_error_false_logs_and_goes_on(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.route("/services/T/B/gone", Reply.channel_is_archived())

    with caplog.at_level(logging.ERROR, logger="asyncflow.notifications"):
        result = await slack_notifier(url, raise_on_error=False)(TASK, Running(), Failed())

    assert result is None
    [record] = caplog.records
    assert "410 channel_is_archived" in record.getMessage()
    assert "load_orders" in record.getMessage()


async def test_raise_on_error_false_also_covers_a_missing_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="asyncflow.notifications"):
        await slack_notifier(raise_on_error=False)(TASK, Running(), Failed())

    assert "SLACK_WEBHOOK_URL" in caplog.text


# ---- secrets stay secret ---------------------------------------------------------------
SECRET_PATH = "/services/T000/B000/s3cr3tT0k3n"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_an_error_answer_never_shows_the_url(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.route(SECRET_PATH, Reply.rollup_error(), Reply.channel_not_found())

    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationError) as caught:
        await slack_notifier(url)(TASK, Running(), Failed())

    shown = everything_shown(caught.value, caplog)
    assert "404 channel_not_found" in shown
    assert "s3cr3tT0k3n" not in shown


async def test_a_connection_error_never_shows_the_url(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__MAX_ATTEMPTS", "2")
    url = f"http://127.0.0.1:{_closed_port()}{SECRET_PATH}"

    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationDeliveryError) as caught:
        await slack_notifier(url)(TASK, Running(), Failed())

    assert "could not be reached" in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert "s3cr3tT0k3n" not in everything_shown(caught.value, caplog)


async def test_an_unusable_url_is_reported_without_showing_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:99999{SECRET_PATH}"  # port out of range

    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationError) as caught:
        await slack_notifier(url)(TASK, Running(), Failed())

    assert "not usable" in str(caught.value)
    assert "s3cr3tT0k3n" not in everything_shown(caught.value, caplog)


async def test_aiohttp_errors_that_quote_the_url_are_redacted(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some aiohttp errors (InvalidURL, ClientResponseError...) put the URL in their text.
    url = slack.url(SECRET_PATH)

    class Leaky:
        def post(self, target: Any, **kwargs: Any) -> Any:
            raise aiohttp.InvalidURL(target)

    async def post_once(session: Any, *args: Any) -> Any:
        return await original(Leaky(), *args)  # type: ignore[arg-type]

    original = _http._post_once
    monkeypatch.setattr(_http, "_post_once", post_once)
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__MAX_ATTEMPTS", "1")

    with caplog.at_level(logging.DEBUG), pytest.raises(NotificationDeliveryError) as caught:
        await slack_notifier(url)(TASK, Running(), Failed())

    shown = everything_shown(caught.value, caplog)
    assert "InvalidURL" in shown
    assert "s3cr3tT0k3n" not in shown
    assert caught.value.__context__ is None


def test_the_notifier_repr_hides_the_url() -> None:
    notify = slack_notifier(f"https://hooks.slack.com{SECRET_PATH}", only_states=[Failed])

    assert repr(notify) == (
        "SlackNotifier(webhook_url=**********, only_states=[Failed])"
    )
    assert repr(SecretStr("x")) == "SecretStr('**********')"


# ---- one session per run -------------------------------------------------------------
async def test_one_session_per_run_shared_by_every_notification(
    slack: FakeSlack, flow_run: FlowRunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[aiohttp.ClientSession] = []

    def counting(settings: Any) -> aiohttp.ClientSession:
        session = original(settings)
        created.append(session)
        return session

    original = _http._new_session
    monkeypatch.setattr(_http, "_new_session", counting)
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__SLACK_INTERVAL", "0")  # unpaced fake
    first = slack_notifier(slack.url(), batch=False)
    second = slack_notifier(slack.url(), only_states=[Failed], batch=False)

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(first, Named(f"t{i}"), Running(), Failed())
            tg.start_soon(second, Named(f"t{i}"), Running(), Failed())
    for i in range(5):  # later calls reuse the pooled connection
        await first(Named(f"s{i}"), Running(), Success())
    await flow_run.resources.aclose()

    assert len(created) == 1
    assert len(slack.payloads) == 45
    early_peers = {r.peer for r in slack.requests[:-5]}
    assert {r.peer for r in slack.requests[-5:]} <= early_peers
    assert created[0].closed


async def test_outside_a_run_the_session_is_closed_after_the_call(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[aiohttp.ClientSession] = []

    def counting(settings: Any) -> aiohttp.ClientSession:
        session = original(settings)
        created.append(session)
        return session

    original = _http._new_session
    monkeypatch.setattr(_http, "_new_session", counting)

    await slack_notifier(slack.url())(TASK, Running(), Success())

    assert len(created) == 1 and created[0].closed


async def test_cancellation_propagates_through_a_retry_wait(slack: FakeSlack) -> None:
    url = slack.route("/services/T/B/busy", Reply.rate_limited(30))
    notify = slack_notifier(url)

    with anyio.move_on_after(0.2) as scope:
        await notify(TASK, Running(), Failed())

    assert scope.cancelled_caught
    assert len(slack.requests) == 1


async def test_notifiers_do_not_block_the_event_loop() -> None:
    slow = FakeSlack(delay=0.05)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async with slow, anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await slack_notifier(slow.url())(TASK, Running(), Success())
        tg.cancel_scope.cancel()

    assert ticks > 10

