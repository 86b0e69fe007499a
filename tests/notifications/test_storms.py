"""Alert storms against a fake Slack that rate-limits like Slack (one message a second).

Many transitions at once used to mean one POST each: Slack answered 429, the notifier
gave up after a few attempts, dropped the alert and (by default) failed the task. Now
the webhook's one sender paces its posts, folds what waits into digests, and the run
waits for its alerts when it ends.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from asyncflow import Flow, task
from asyncflow.notifications import slack_notifier, webhook_notifier
from asyncflow.states import Failed, State, Success
from tests.servers.slack import FakeSlack, Reply

pytestmark = pytest.mark.anyio

HEADLINE = re.compile(r"^(\d+) state changes[^:]*: (.*)$")


@pytest.fixture
async def limited() -> AsyncIterator[FakeSlack]:
    """A fake Slack accepting one message per second per webhook, 429 beyond."""
    async with FakeSlack(rate_limit=1.0) as server:
        yield server


class Witness:
    """A state handler counting the transitions a task went through, by state."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    async def __call__(self, obj: Any, old: State, new: State) -> None:
        self.seen[new.name] += 1


def accounted(slack: FakeSlack) -> Counter[str]:
    """Transitions the accepted messages tell about: a digest counts, a message is one."""
    counts: Counter[str] = Counter()
    for payload in slack.payloads:
        digest = HEADLINE.match(payload["text"])
        if digest is None:
            counts[payload["attachments"][0]["title"]] += 1
            continue
        told = Counter({state: int(n) for n, state in re.findall(r"(\d+) (\w+)", digest[2])})
        assert sum(told.values()) == int(digest[1])
        counts += told
    return counts


def assert_paced(slack: FakeSlack) -> None:
    """The server never saw two posts within a second (its own arrival times)."""
    assert [r.status for r in slack.requests] == [200] * len(slack.requests)  # no 429
    times = [r.received_at for r in slack.requests]
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(times))


def assert_nothing_left_running() -> None:
    from asyncflow._notify import _sender  # not at the top: the module is new

    hub = _sender.current_hub()
    assert all(s.task is None and s.users == 0 for s in hub.senders.values())
    names = [t.get_coro().__qualname__ for t in asyncio.all_tasks()]  # type: ignore[union-attr]
    assert not [name for name in names if name.startswith("Sender.")]


async def test_a_storm_of_successes_ends_success_and_every_transition_is_told(
    limited: FakeSlack,
) -> None:
    witness = Witness()

    @task(state_handlers=[slack_notifier, witness])  # the README's first example
    def work(i: int) -> int:
        return i

    with Flow("storm") as flow:
        work.map(list(range(50)))

    state = await flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": limited.url()}})

    assert state.is_successful()
    assert witness.seen["Success"] == 50
    assert accounted(limited) == witness.seen
    assert_paced(limited)
    assert_nothing_left_running()


async def test_a_storm_of_failures_is_told_in_digests_with_names_errors_and_a_link(
    limited: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__DASHBOARD_URL", "https://dash.example/ui/")
    witness = Witness()

    @task(state_handlers=[
        slack_notifier(limited.url(), only_states=[Failed], raise_on_error=False), witness
    ])
    def load(i: int) -> int:
        raise ValueError(f"bad row {i}")

    with Flow("nightly") as flow:
        load.map(list(range(100)))

    state = await flow.run(context={"flow_run_id": "run-42"})

    assert state.is_failed()
    assert accounted(limited)["Failed"] == witness.seen["Failed"] >= 100
    assert_paced(limited)
    digests = [p for p in limited.payloads if HEADLINE.match(p["text"])]
    assert digests
    listing = digests[0]["blocks"][1]["text"]["text"]
    assert "ValueError('bad row" in listing
    assert "more" in listing  # at most notifications.digest_tasks lines, the rest counted
    link = digests[0]["blocks"][2]["elements"][0]["text"]
    assert link.startswith("<https://dash.example/ui/flow-runs/run-42|")
    assert_nothing_left_running()


async def test_two_runs_share_the_webhook_sender_and_its_pace(limited: FakeSlack) -> None:
    witnesses = [Witness(), Witness()]

    def flow_with(witness: Witness, name: str) -> Flow:
        @task(state_handlers=[slack_notifier(limited.url(), only_states=[Success]), witness])
        def work(i: int) -> int:
            return i

        with Flow(name) as flow:
            work.map(list(range(10)))
        return flow

    async with anyio.create_task_group() as tg:
        for i, witness in enumerate(witnesses):
            tg.start_soon(flow_with(witness, f"flow-{i}").run)

    assert accounted(limited)["Success"] == sum(w.seen["Success"] for w in witnesses)
    assert_paced(limited)
    assert_nothing_left_running()


async def test_batch_false_sends_one_message_per_transition_still_paced(
    limited: FakeSlack,
) -> None:
    @task(state_handlers=[slack_notifier(limited.url(), only_states=[Success], batch=False)])
    def work(i: int) -> int:
        return i

    with Flow("one-by-one") as flow:
        work.map(list(range(3)))

    state = await flow.run()

    assert state.is_successful()
    assert not any(HEADLINE.match(p["text"]) for p in limited.payloads)
    indexes = sorted(
        {f["title"]: f["value"] for f in p["attachments"][0]["fields"]}.get("Map index", "-")
        for p in limited.payloads
    )
    assert indexes == ["-", "0", "1", "2"]  # the parent, then each child
    assert_paced(limited)


@pytest.mark.parametrize(
    ("reply", "answer"),
    [(Reply.channel_not_found(), "404 channel_not_found"),
     (Reply.invalid_token(), "403 invalid_token")],
)
async def test_a_permanent_client_error_is_one_error_line_counting_the_lost_alerts(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture, reply: Reply, answer: str
) -> None:
    url = slack.route("/services/T000/B000/s3cr3tT0k3n", reply)
    witness = Witness()

    @task(state_handlers=[slack_notifier(url, only_states=[Success]), witness])
    def work(i: int) -> int:
        return i

    with Flow("gone") as flow:
        work.map(list(range(20)))

    with caplog.at_level(logging.DEBUG):
        state = await flow.run()

    assert state.is_successful()  # a lost alert never fails a task
    lost = witness.seen["Success"] + witness.seen["Mapped"]  # Mapped is a Success
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"{lost} of {lost} alerts of flow 'gone'" in line
    assert answer in line
    assert "s3cr3tT0k3n" not in caplog.text
    assert_nothing_left_running()


async def test_alerts_still_waiting_at_the_flush_timeout_are_counted_as_lost(
    limited: FakeSlack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__FLUSH_TIMEOUT", "0.3")

    @task(state_handlers=[slack_notifier(limited.url(), only_states=[Success], batch=False)])
    def work(i: int) -> int:
        return i

    with Flow("impatient") as flow:
        work.map(list(range(3)))

    with caplog.at_level(logging.ERROR, logger="asyncflow.notifications"):
        state = await flow.run()

    assert state.is_successful()
    assert len(limited.payloads) == 1  # the first went at once; the next would wait 1 s
    [record] = caplog.records
    assert "3 of 4 alerts of flow 'impatient'" in record.getMessage()
    assert "notifications.flush_timeout (0.3s)" in record.getMessage()
    assert_nothing_left_running()


async def test_a_rate_limited_webhook_is_waited_out_not_failed(limited: FakeSlack) -> None:
    hook = limited.route("/hooks/ops", Reply(202, "accepted"))

    @task(state_handlers=[webhook_notifier(hook, only_states=[Success])])
    def work(i: int) -> int:
        return i

    with Flow("hooked") as flow:
        work.map(list(range(2)))

    state = await flow.run()

    assert state.is_successful()
    statuses = [r.status for r in limited.requests]
    assert statuses.count(202) == 3  # both children and the parent's Mapped
    assert statuses.count(429) >= 1  # the webhook does not announce its rate: it is told
    assert_nothing_left_running()


async def test_unpaced_messages_overlap_but_keep_each_tasks_order(slack: FakeSlack) -> None:
    hook = slack.route("/hooks/ops", Reply(202, "accepted"))

    @task(state_handlers=[webhook_notifier(hook)])
    def work(i: int) -> int:
        return i

    with Flow("ordered") as flow:
        work.map(list(range(40)))

    state = await flow.run()

    assert state.is_successful()
    arrivals: dict[Any, list[str]] = {}
    for request in slack.requests:
        arrivals.setdefault(request.payload["map_index"], []).append(request.payload["new_state"])
    assert all(arrivals[i] == ["Running", "Success"] for i in range(40))
