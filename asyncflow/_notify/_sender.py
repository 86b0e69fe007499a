"""One paced sender per receiver: alerts queue, go out at the receiver's rate, none is lost.

Every notifier hands its message to the :class:`Sender` of its receiver (one Slack
webhook, one webhook URL, one SMTP account), shared by every run on the event loop. The
sender posts one message at a time:

- after a delivered message it waits the channel's interval (for Slack,
  ``notifications.slack_interval``, one second) before the next one;
- a rate-limit answer (``429``, SMTP ``421``/``45x``) is not a failure: the message goes
  back to the front of the queue and the sender waits what the receiver asked
  (``Retry-After``), or a backoff;
- ``5xx``, connection errors and timeouts are retried with backoff, up to
  ``notifications.max_attempts`` attempts;
- anything else fails the message; when the receiver itself is gone (``403``, ``404``,
  ``410``, a refused login) it fails everything queued for it.

A channel that batches (Slack) folds every batchable alert waiting into one digest. A
channel without pacing (interval 0: webhooks, email, Slack with ``slack_interval = 0``)
keeps up to ``MAX_IN_FLIGHT`` single messages in flight, never two about the same task run, so the
transitions of one task arrive in order.

Inside a flow run the notifier returns as soon as the alert is queued. The run owns a
:class:`RunAlerts` tally in its resources, closed when the run ends: closing waits until
the run's alerts are settled or ``notifications.flush_timeout`` has passed, then logs
one ERROR line counting the alerts that were lost, if any. Outside a run the caller
waits for its own alert and gets a :class:`NotificationDeliveryError` if it is lost.

The sender's task runs only while something is queued, and is cancelled once no run
and no caller needs it, so nothing is left running after ``flow.run`` returns.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import logging
import random
import weakref
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio

from .._core._context import FlowRunContext, current_flow_run
from .._core._resources import CLOSE_TIMEOUT
from ._formatting import StateChange
from ._settings import NotificationDeliveryError, NotificationSettings

logger = logging.getLogger("asyncflow.notifications")

RUN_ALERTS_KEY = "asyncflow.notifications.alerts"
MAX_BACKOFF = 30.0
MAX_IN_FLIGHT = 32


class Verdict(enum.Enum):
    """What a receiver's answer means for the messages sent."""

    DELIVERED = "delivered"
    SLOW_DOWN = "slow down"  # rate limited: send again later, not a failure
    RETRY = "retry"  # transient: try again after a backoff, a bounded number of times
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """A receiver's answer to one send. ``description`` never holds a secret."""

    verdict: Verdict
    description: str = ""
    status: int | None = None
    body: str | None = None
    wait: float | None = None  # SLOW_DOWN: the seconds the receiver asked for, if it said
    receiver_gone: bool = False  # FAILED: every message to this receiver would fail too


class Channel(Protocol):
    """How one receiver is reached: a Slack webhook, a webhook URL, an SMTP account."""

    kind: str  # "Slack notification", for log lines
    batches: bool  # whether batchable alerts waiting together go out as one digest

    def interval(self, settings: NotificationSettings) -> float:
        """Seconds to wait after a delivered message before sending the next one."""
        ...

    async def send(self, alerts: Sequence[Alert], settings: NotificationSettings) -> Outcome:
        """Send ``alerts`` as one message (one alert, or a digest of several)."""
        ...


@dataclass(eq=False)
class Alert:
    """One transition a notifier accepted, waiting to be delivered."""

    name: str
    state: str
    message: Any  # the channel's own message for this one transition
    settings: NotificationSettings
    change: StateChange | None = None  # what a digest says about it
    batchable: bool = False
    order: Hashable = None  # alerts with equal keys (one task run) are sent in order
    run: RunAlerts | None = None
    waiter: asyncio.Future[None] | None = None
    settled: bool = False


class RunAlerts:
    """One run's alerts to one receiver: how many are pending, how many were lost, and why."""

    __slots__ = ("drained", "label", "lost", "pending", "reasons", "submitted")

    def __init__(self, label: str) -> None:
        self.label = label
        self.submitted = 0
        self.pending = 0
        self.lost: Counter[str] = Counter()  # by state name
        self.reasons: Counter[str] = Counter()
        self.drained = asyncio.Event()
        self.drained.set()

    def added(self) -> None:
        self.submitted += 1
        self.pending += 1
        self.drained.clear()

    def settled(self, state: str, error: NotificationDeliveryError | None) -> None:
        if error is not None:
            self.lost[state] += 1
            self.reasons[str(error)] += 1
        self.pending -= 1
        if self.pending == 0:
            self.drained.set()

    def report(self, kind: str) -> None:
        """One ERROR line counting the lost alerts (the reasons never hold a secret)."""
        lost = sum(self.lost.values())
        if not lost:
            return
        states = ", ".join(f"{n} {state}" for state, n in self.lost.most_common())
        reasons = "; ".join(
            f"{reason} ({n})" if len(self.reasons) > 1 else reason
            for reason, n in self.reasons.most_common(3)
        )
        logger.error(
            "%s: %d of %d alerts of %s were not delivered (%s): %s",
            kind, lost, self.submitted, self.label, states, reasons,
        )


def _backoff(attempt: int, settings: NotificationSettings) -> float:
    delay = min(MAX_BACKOFF, settings.backoff * 2.0 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)  # spread retries of many receivers apart


class Sender:
    """The queue of one receiver and the task that empties it (see the module docstring)."""

    def __init__(self, hub: Hub, channel: Channel) -> None:
        self.hub = hub
        self.channel = channel
        self.queue: deque[Alert] = deque()
        self.in_flight: list[Alert] = []
        self.next_at = 0.0  # loop time before which nothing is sent
        self.task: asyncio.Task[None] | None = None
        self.users = 0  # runs and callers that wait for alerts of this sender
        self.slowdowns = 0  # rate-limit answers in a row
        self.last_problem: str | None = None

    # ---- entry points -----------------------------------------------------------------
    def submit(self, alert: Alert) -> None:
        """Queue ``alert``; the sending task starts if it is not running."""
        if alert.run is not None:
            alert.run.added()
        self.queue.append(alert)
        if self.task is None:
            loop = asyncio.get_running_loop()
            # An empty context: the task serves many runs and must not keep one alive.
            self.task = contextvars.Context().run(loop.create_task, self._work())

    async def deliver_now(self, alert: Alert) -> None:
        """Queue ``alert`` and wait until it is delivered (raises if it is lost)."""
        alert.waiter = asyncio.get_running_loop().create_future()
        self.users += 1
        try:
            self.submit(alert)
            with anyio.move_on_after(alert.settings.flush_timeout):
                await asyncio.shield(alert.waiter)
            if not alert.settled:
                self._settle(alert, self._timed_out(alert.settings))
            alert.waiter.result()
        finally:
            self.users -= 1
            if not alert.settled:  # the caller was cancelled
                alert.settled = True
                self._drop_settled()
            with anyio.CancelScope(shield=True):
                await self.stop_if_unneeded()

    @asynccontextmanager
    async def serving(self, run: FlowRunContext, settings: NotificationSettings) -> AsyncIterator[
        RunAlerts
    ]:
        """A run's tally, kept in its resources; leaving waits for its alerts (bounded)."""
        values = run.values
        label = f"flow {values.get('flow_name')!r} (run {values.get('flow_run_id')})"
        alerts = RunAlerts(label)
        run.resources.close_timeout = max(
            run.resources.close_timeout, settings.flush_timeout + CLOSE_TIMEOUT
        )
        self.users += 1
        try:
            yield alerts
        finally:
            await self._flush(alerts, settings)

    async def _flush(self, alerts: RunAlerts, settings: NotificationSettings) -> None:
        try:
            with anyio.move_on_after(settings.flush_timeout):
                await alerts.drained.wait()
        finally:
            if alerts.pending:
                error = self._timed_out(settings)
                for alert in [*self.in_flight, *self.queue]:
                    if alert.run is alerts:
                        self._settle(alert, error)
                self._drop_settled()
            alerts.report(self.channel.kind)
            self.users -= 1
            with anyio.CancelScope(shield=True):
                await self.stop_if_unneeded()

    async def stop_if_unneeded(self) -> None:
        """End the task when no run or caller waits for it; close shared clients when idle."""
        task = self.task
        if task is not None and self.users == 0:
            task.cancel()  # idle, pacing, or sending what nobody waits for any more
            await asyncio.wait([task])
            self.queue.clear()
        await self.hub.close_if_idle()

    # ---- the sending task ---------------------------------------------------------------
    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.queue:
                delay = self.next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing: the receiver's rate
                    continue  # the queue may have changed meanwhile
                batches = self._take()
                self.in_flight = [alert for batch in batches for alert in batch]
                results = await asyncio.gather(*map(self._attempt, batches))
                self.in_flight = []
                for batch, (outcome, attempts) in zip(batches, results, strict=True):
                    self._after(batch, outcome, attempts, loop.time())
        finally:
            # No await here: a submit after this point starts a new task. Shared clients
            # are closed by whoever releases the sender last (stop_if_unneeded).
            self.task = None
            self.in_flight = []

    def _take(self) -> list[list[Alert]]:
        """What to send now: one message (maybe a digest), or a window of single ones."""
        first = self.queue.popleft()
        if first.batchable and self.channel.batches:
            batch = [first]
            rest: deque[Alert] = deque()
            for alert in self.queue:
                (batch if alert.batchable else rest).append(alert)
            self.queue = rest
            return [batch]
        if self.channel.interval(first.settings) > 0:
            return [[first]]
        window = [[first]]
        orders = {first.order}
        rest = deque()
        while self.queue and len(window) < MAX_IN_FLIGHT:
            alert = self.queue.popleft()
            if alert.order in orders or (alert.batchable and self.channel.batches):
                rest.append(alert)  # after the one in flight, or for the next digest
                orders.add(alert.order)
                continue
            orders.add(alert.order)
            window.append([alert])
        rest.extend(self.queue)
        self.queue = rest
        return window

    async def _attempt(self, batch: list[Alert]) -> tuple[Outcome, int]:
        settings = batch[0].settings
        attempt = 0
        while True:
            attempt += 1
            try:
                outcome = await self.channel.send(batch, settings)
            except Exception as exc:  # a bug in a channel: never leave the alerts waiting
                # Only the type: a channel's error text might quote its credentials.
                outcome = Outcome(
                    Verdict.FAILED, f"{self.channel.kind} could not be sent ({type(exc).__name__})"
                )
            if outcome.verdict is not Verdict.RETRY or attempt >= settings.max_attempts:
                return outcome, attempt
            delay = _backoff(attempt, settings)
            logger.warning(
                "%s; retrying in %.2fs (attempt %d of %d)",
                outcome.description, delay, attempt + 1, settings.max_attempts,
            )
            await asyncio.sleep(delay)

    def _after(self, batch: list[Alert], outcome: Outcome, attempts: int, now: float) -> None:
        settings = batch[0].settings
        if outcome.verdict is Verdict.DELIVERED:
            self.slowdowns = 0
            for alert in batch:
                self._settle(alert, None)
            self.next_at = now + self.channel.interval(settings)
            return
        self.last_problem = outcome.description
        if outcome.verdict is Verdict.SLOW_DOWN:
            self.slowdowns += 1
            wait = outcome.wait if outcome.wait is not None else _backoff(self.slowdowns, settings)
            if wait <= settings.max_retry_after:
                waiting = [a for a in batch if not a.settled]
                self.queue.extendleft(reversed(waiting))
                self.next_at = now + max(wait, self.channel.interval(settings))
                logger.info(
                    "%s; sending again in %.2fs (%d alerts waiting)",
                    outcome.description, wait, len(self.queue),
                )
                return
            reason = (
                f"{outcome.description}; it asked to retry after {wait:g}s, more than "
                f"notifications.max_retry_after ({settings.max_retry_after:g}s)"
            )
        else:
            tries = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
            reason = f"{outcome.description}{tries}"
        error = NotificationDeliveryError(
            reason, status=outcome.status, body=outcome.body, attempts=attempts
        )
        for alert in batch:
            self._settle(alert, error)
        if outcome.receiver_gone:
            for alert in self.queue:
                self._settle(alert, error)
            self.queue.clear()
        self.next_at = now + self.channel.interval(settings)

    # ---- bookkeeping ----------------------------------------------------------------
    def _settle(self, alert: Alert, error: NotificationDeliveryError | None) -> None:
        if alert.settled:
            return
        alert.settled = True
        if alert.run is not None:
            alert.run.settled(alert.state, error)
        waiter = alert.waiter
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    def _drop_settled(self) -> None:
        self.queue = deque(a for a in self.queue if not a.settled)

    def _timed_out(self, settings: NotificationSettings) -> NotificationDeliveryError:
        last = f"; the last answer: {self.last_problem}" if self.last_problem else ""
        return NotificationDeliveryError(
            f"{self.channel.kind} not delivered within notifications.flush_timeout "
            f"({settings.flush_timeout:g}s){last}",
            status=None, body=None, attempts=0,
        )


class Hub:
    """The senders of one event loop, and the clients (an HTTP session) they share."""

    def __init__(self) -> None:
        self.senders: dict[Hashable, Sender] = {}
        self._session: Any = None

    def sender(self, key: Hashable, make_channel: Callable[[], Channel]) -> Sender:
        found = self.senders.get(key)
        if found is None:
            found = self.senders[key] = Sender(self, make_channel())
        return found

    def session(self, factory: Callable[[], Any]) -> Any:
        """The shared client made by ``factory`` (closed once every sender is idle)."""
        if self._session is None:
            self._session = factory()
        return self._session

    async def close_if_idle(self) -> None:
        if self._session is None:
            return
        if any(s.task is not None or s.users for s in self.senders.values()):
            return
        session, self._session = self._session, None
        await session.close()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def current_hub() -> Hub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub


async def dispatch(key: Hashable, make_channel: Callable[[], Channel], alert: Alert) -> None:
    """Queue ``alert`` for its receiver: in a run, return at once; outside, wait for it."""
    sender = current_hub().sender(key, make_channel)
    run = current_flow_run()
    if run is not None:
        this_run = run
        try:
            alert.run = await run.resources.get(
                (RUN_ALERTS_KEY, sender), lambda: sender.serving(this_run, alert.settings)
            )
        except RuntimeError:  # the run has ended (a handler called after it)
            run = None
    if run is None:
        await sender.deliver_now(alert)
        return
    sender.submit(alert)
