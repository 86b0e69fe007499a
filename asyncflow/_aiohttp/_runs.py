"""One flow run started through a run manager: its states so far, its event log, its subscribers.

The run's observer (called by the engine, on the loop, for every transition) keeps the
latest state of the flow, of each task and of each mapped child, encodes the transition
once as a server-sent event, appends it to the run's log and hands the same bytes to every
subscriber. Replaying the log to a new subscriber and registering it for live events
happen in one synchronous step, so no transition is missed or sent twice.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

import anyio

from .._core._flow import Flow
from .._core._states import Cancelled, Failed, Scheduled, State
from .._core._task import Task
from ._encoding import task_json, timestamp, transition_json
from ._sse import Subscription, encode_event

logger = logging.getLogger("asyncflow.contrib.aiohttp")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class FlowRun:
    """A run of one flow, as the service knows it.

    ``state`` is the flow's state now (``Scheduled`` until the engine starts it);
    ``task_states`` the latest state of each task that has started and ``child_states``
    those of mapped children, by map index. :meth:`wait` waits for the run to end.
    """

    __slots__ = (
        "_done",
        "_dropped",
        "_end_chunk",
        "_log",
        "_scope",
        "_seq",
        "_subscribers",
        "child_states",
        "finished_at",
        "flow",
        "id",
        "parameters",
        "state",
        "submitted_at",
        "task_states",
    )

    def __init__(
        self, flow: Flow, parameters: Mapping[str, Any], *, max_events: int
    ) -> None:
        self.id = str(uuid.uuid4())
        self.flow = flow
        self.parameters = dict(parameters)
        self.state: State = Scheduled("Run accepted; waiting to start.")
        self.submitted_at = _utcnow()
        self.finished_at: datetime.datetime | None = None
        self.task_states: dict[Task[Any], State] = {}
        self.child_states: dict[Task[Any], dict[int, State]] = {}
        self._log: deque[tuple[int, bytes]] = deque(maxlen=max_events)
        self._seq = 0
        self._dropped = 0
        self._subscribers: set[Subscription] = set()
        self._scope = anyio.CancelScope()
        self._done = asyncio.Event()
        self._end_chunk: bytes | None = None

    # ---- the run's life ---------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True once the run has ended (in whatever state)."""
        return self._done.is_set()

    @property
    def cancel_requested(self) -> bool:
        """True once :meth:`cancel` was called (the run may still be ending)."""
        return self._scope.cancel_called

    def cancel(self) -> None:
        """Ask the run to stop; the engine cancels its tasks and awaits their handlers."""
        self._scope.cancel()

    async def wait(self) -> State:
        """Wait for the run to end; its final state."""
        await self._done.wait()
        return self.state

    async def execute(self, context: Mapping[str, Any], options: Mapping[str, Any]) -> None:
        """Run the flow to its end and publish the end (called once, by the run manager)."""
        final: State | None = None
        if self._scope.cancel_called:  # cancelled before it started: do not start it
            self._observe(self.flow, self.state, Cancelled("Run was cancelled before it started."))
            self._end(None)
            return
        try:
            with self._scope:
                final = await self.flow.run(
                    self.parameters,
                    context={**context, "flow_run_id": self.id},
                    observers=[self._observe],
                    **options,
                )
        except Exception as exc:
            logger.exception("run %s of flow %r stopped with an error", self.id, self.flow.name)
            final = Failed(f"The run stopped with an error: {exc!r}", result=exc)
        finally:
            self._end(final)

    def _end(self, final: State | None) -> None:
        if final is not None:
            self.state = final
        elif not self.state.is_finished():
            reason = "cancelled" if self.cancel_requested else "stopped by the server's shutdown"
            self.state = Cancelled(f"Run was {reason} before it finished.")
        self.finished_at = _utcnow()
        self._done.set()
        self._end_chunk = encode_event("end", self.summary())
        for subscription in self._subscribers:
            subscription.finish(self._end_chunk)
        self._subscribers.clear()

    # ---- observing the engine ----------------------------------------------------------
    def _observe(self, obj: Any, old: State, new: State) -> None:
        """The engine's observer: record the transition, log it, fan it out. Never raises."""
        try:
            if isinstance(obj, Task):
                if new.map_index is None:
                    self.task_states[obj] = new
                else:
                    self.child_states.setdefault(obj, {})[new.map_index] = new
            else:
                self.state = new
            self._seq += 1
            seq = self._seq
            chunk = encode_event(
                "transition",
                transition_json(self.id, seq, obj, old, new, _utcnow()),
                event_id=seq,
            )
            if len(self._log) == self._log.maxlen:
                self._dropped += 1
            self._log.append((seq, chunk))
            if self._subscribers:
                laggards = [s for s in self._subscribers if not s.push(seq, chunk)]
                for subscription in laggards:
                    self._subscribers.discard(subscription)
                    subscription.finish(self._overflow_event(subscription))
        except Exception:  # pragma: no cover - a bug here must not break the run
            logger.exception("recording a transition of run %s failed", self.id)

    def _overflow_event(self, subscription: Subscription) -> bytes:
        return encode_event("overflow", {
            "run_id": self.id,
            "last_id": subscription.last_id,
            "reason": (
                "this client fell too far behind the run's events and was disconnected; "
                "reconnect with the header Last-Event-ID: "
                f"{subscription.last_id if subscription.last_id is not None else 0} "
                "to replay the rest"
            ),
        })

    # ---- subscribers ------------------------------------------------------------------
    def subscribe(self, *, after: int | None, limit: int) -> Subscription:
        """A subscription replaying the events after id ``after`` (all if None), then live ones."""
        start = after or 0
        replay = [chunk for seq, chunk in self._log if seq > start]
        first_kept = self._log[0][0] if self._log else self._seq + 1
        if first_kept > start + 1 and self._dropped:
            notice = encode_event("truncated", {
                "run_id": self.id,
                "missing_from": start + 1,
                "missing_to": first_kept - 1,
                "reason": "the run's event log keeps only its most recent events",
            })
            replay.insert(0, notice)
        subscription = Subscription(replay, limit=limit, last_id=self._seq if replay else after)
        if self._end_chunk is not None:
            subscription.finish(self._end_chunk)
        else:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering this run's events to ``subscription`` (unknown ones are ignored)."""
        self._subscribers.discard(subscription)

    def close_subscribers(self, reason: str) -> None:
        """End every live stream of this run now (the server is going away)."""
        final = encode_event("shutdown", {"run_id": self.id, "reason": reason})
        for subscription in self._subscribers:
            subscription.finish(final)
        self._subscribers.clear()

    # ---- views ------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Run id, flow name and state: what POST answers and the stream's ``end`` event says."""
        return {
            "run_id": self.id,
            "flow": self.flow.name,
            "state": self.state.name,
            "message": self.state.message,
            "done": self.done,
        }

    def to_json(self) -> dict[str, Any]:
        """The run and every task of its flow, as JSON-ready data."""
        tasks = []
        for task in self.flow.sorted_tasks():
            children = self.child_states.get(task)
            tasks.append(task_json(task, self.task_states.get(task), children))
        return {
            **self.summary(),
            "parameters": self.parameters,
            "submitted_at": timestamp(self.submitted_at),
            "finished_at": timestamp(self.finished_at),
            "tasks": tasks,
        }

    def __repr__(self) -> str:
        return f"<FlowRun {self.id} of {self.flow.name!r}: {self.state.name}>"
