"""Notifiers attached to tasks and flows in real runs: the seed document's examples."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from asyncflow import Flow, Task, signals, task
from asyncflow._notify import _http
from asyncflow.notifications import callback_factory, slack_notifier, webhook_notifier
from asyncflow.states import Retrying, State, Success
from tests.servers.slack import FakeSlack, Reply

pytestmark = pytest.mark.anyio


def texts(slack: FakeSlack) -> list[str]:
    return [payload["text"] for payload in slack.payloads]


async def test_post_on_every_finished_state(slack: FakeSlack) -> None:
    # The seed's post_to_slack, as an async handler.
    async def post_to_slack(task: Any, old_state: State, new_state: State) -> State:
        if new_state.is_finished():
            msg = f"Task {task.name} finished in state {new_state.name}"
            async with aiohttp.ClientSession() as session:
                await session.post(slack.url(), json={"text": msg})
        return new_state

    t = Task(name="work", state_handlers=[post_to_slack])
    flow = Flow("state-handler-demo", tasks=[t])

    state = await flow.run()

    assert state.is_successful()
    assert texts(slack) == ["Task work finished in state Success"]


async def test_bare_slack_notifier_reports_every_transition(slack: FakeSlack) -> None:
    @task(state_handlers=[slack_notifier])
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("sums") as flow:
        add(1, 2)

    await flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": slack.url()}})

    assert texts(slack) == [
        "`add` is now in a `Running` state",
        "`add` is now in a `Success` state",
    ]


async def test_retrying_alert_carries_the_retry_time(slack: FakeSlack) -> None:
    attempts = 0

    @task(max_retries=1, retry_delay=0, state_handlers=[slack_notifier(slack.url(),
                                                                      only_states=[Retrying])])
    def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("database went away")
        return "ok"

    with Flow("retry-demo") as flow:
        t = flaky()

    state = await flow.run()

    assert state.result[t].is_successful()
    [payload] = slack.payloads
    fields = {f["title"]: f["value"] for f in payload["attachments"][0]["fields"]}
    assert payload["attachments"][0]["title"] == "Retrying"
    assert "Next attempt" in fields
    assert fields["Run count"] == "1"
    assert fields["Flow"] == "retry-demo"


async def test_special_failure_alert(slack: FakeSlack) -> None:
    async def alert_on_special_failure(task: Any, old_state: State, new_state: State) -> State:
        if new_state.is_failed() and getattr(new_state.result, "flag", False) is True:
            async with aiohttp.ClientSession() as session:
                await session.post(
                    slack.url(),
                    json={"text": f"Special failure mode! a == b == {new_state.result.value}"},
                )
        return new_state

    @task(state_handlers=[alert_on_special_failure])
    def mission_critical_task(a: int, b: int) -> float:
        if a == b:
            fail_signal = signals.FAIL("a equaled b!")
            fail_signal.flag = True  # type: ignore[attr-defined]
            fail_signal.value = a  # type: ignore[attr-defined]
            raise fail_signal
        return 1 / (b - a)

    with Flow("state-inspection-handler") as flow:
        mission_critical_task(1, 1)

    await flow.run()

    assert texts(slack) == ["Special failure mode! a == b == 1"]


async def test_several_handlers_run_in_order(slack: FakeSlack) -> None:
    seen: list[str] = []

    def first(task: Any, old: State, new: State) -> None:
        seen.append(f"first:{new.name}")

    async def last(task: Any, old: State, new: State) -> None:
        seen.append(f"last:{new.name}")

    @task(state_handlers=[first, slack_notifier(slack.url()), last])
    def work() -> int:
        return 1

    with Flow("ordered") as flow:
        work()

    await flow.run()

    # The Slack notifier only queues its message, so the next handler runs at once; the
    # run waits for the messages before it returns.
    assert seen == ["first:Running", "last:Running", "first:Success", "last:Success"]
    assert texts(slack) == ["`work` is now in a `Running` state", "`work` is now in a `Success` state"]


async def test_callback_factory_as_in_the_seed(slack: FakeSlack) -> None:
    async def send_post(task: Any, state: Any) -> None:
        msg = f"Task {task.name} failed and is retrying at {state.start_time}"
        async with aiohttp.ClientSession() as session:
            await session.post(slack.url(), json={"text": msg})

    post_to_slack = callback_factory(send_post, lambda s: s.is_retrying())
    runs = 0

    @task(max_retries=1, retry_delay=0, state_handlers=[post_to_slack])
    def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("once")

    with Flow("callback-demo") as flow:
        flaky()

    await flow.run()

    [text] = texts(slack)
    assert text.startswith("Task flaky failed and is retrying at ")


async def test_flow_handler_reports_the_flow(slack: FakeSlack) -> None:
    flow = Flow("nightly", tasks=[Task(name="noop")], state_handlers=[slack_notifier])

    await flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": slack.url()}})

    assert texts(slack) == [
        "`nightly` is now in a `Running` state",
        "`nightly` is now in a `Success` state",
    ]


async def test_a_failed_delivery_is_logged_and_never_fails_the_task(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.route("/services/T/B/s3cr3t", Reply.channel_not_found())

    @task(state_handlers=[slack_notifier(url, only_states=[Success])])
    def work() -> int:
        return 1

    with Flow("lost-alerts") as flow:
        t = work()

    with caplog.at_level(logging.DEBUG):
        state = await flow.run()

    assert isinstance(state.result[t], Success)
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "1 of 1 alerts of flow 'lost-alerts'" in line
    assert "404 channel_not_found" in line
    assert "s3cr3t" not in caplog.text


async def test_raise_on_error_false_lets_the_task_succeed(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.route("/services/T/B/gone", Reply.channel_is_archived())

    @task(state_handlers=[slack_notifier(url, raise_on_error=False)])
    def work() -> int:
        return 1

    with Flow("best-effort") as flow:
        t = work()

    with caplog.at_level(logging.ERROR, logger="asyncflow.notifications"):
        state = await flow.run()

    assert isinstance(state.result[t], Success)
    assert "410 channel_is_archived" in caplog.text


async def test_one_session_for_all_notifiers_of_a_run(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[aiohttp.ClientSession] = []

    def counting(settings: Any) -> aiohttp.ClientSession:
        session = original(settings)
        created.append(session)
        return session

    original = _http._new_session
    monkeypatch.setattr(_http, "_new_session", counting)
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__SLACK_INTERVAL", "0")  # unpaced fake
    hook = slack.route("/hooks/ops", Reply(202, "accepted"))

    @task(state_handlers=[slack_notifier(slack.url(), batch=False), webhook_notifier(hook)])
    def square(x: int) -> int:
        return x * x

    with Flow("fan-out") as flow:
        square.map(list(range(10)))

    state = await flow.run()

    assert state.is_successful()
    assert len(created) == 1
    assert created[0].closed  # closed when the run ended
    # 10 children x 2 transitions x 2 notifiers, plus the parent's Pending -> Mapped x 2.
    assert len(slack.requests) == 42
    map_indexes = sorted(
        p["map_index"] for p in (r.payload for r in slack.requests_to("/hooks/ops"))
        if p["new_state"] == "Success" and p["map_index"] is not None
    )
    assert map_indexes == list(range(10))
