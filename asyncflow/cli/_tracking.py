"""Following a flow run from its state transitions, for the live view and the plain log.

A :class:`RunTracker` is passed to ``flow.run(observers=[tracker])``. It is called on the
event loop for every transition, so it only updates counters (under a lock, because the
live view reads them from its refresh thread) and tells a :class:`Listener` what happened.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._core._flow import Flow
from .._core._states import ALL_STATES, Failed, Mapped, Retrying, State, TriggerFailed

if TYPE_CHECKING:
    from .._core._task import Task

EventKind = Literal["flow", "mapped", "map_done", "retry", "failed", "finished"]

_FAILED_NAMES = {cls.__name__: issubclass(cls, Failed) for cls in ALL_STATES}


@dataclass
class MapProgress:
    """How far the children of one mapped task have got."""

    task: Task[Any]
    total: int
    finished: int = 0
    states: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(n for name, n in self.states.items() if _FAILED_NAMES.get(name, False))


@dataclass
class Event:
    """Something worth telling the user: a retry, a failure, a finished task or map."""

    kind: EventKind
    elapsed: float
    state: State
    flow_name: str
    task: Task[Any] | None = None
    progress: MapProgress | None = None

    @property
    def who(self) -> str:
        """``task-slug``, ``task-slug[3]`` for a mapped child, or ``flow 'name'``."""
        if self.task is None:
            return f"flow {self.flow_name!r}"
        name = self.task.slug or self.task.name
        index = self.state.map_index
        return name if index is None else f"{name}[{index}]"


#: Told about each :class:`Event` (on the event loop, so it must not block).
Listener = Callable[[Event], None]


def will_retry(task: Task[Any], state: State) -> bool:
    """Whether the engine is about to retry ``task`` after this Failed state."""
    if not isinstance(state, Failed) or isinstance(state, TriggerFailed):
        return False
    if state.run_count > task.max_retries:
        return False
    retry_on = task.retry_on
    return retry_on is None or isinstance(state.result, retry_on)


def _settled(task: Task[Any], state: State) -> bool:
    return state.is_finished() and not will_retry(task, state)


class RunTracker:
    """An observer for ``flow.run`` that keeps counts per state and progress per map."""

    def __init__(self, flow: Flow, listener: Listener | None = None) -> None:
        self.flow = flow
        self.listener = listener
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.ended: float | None = None
        self.flow_state: State | None = None
        self.n_tasks = len(flow.tasks)
        self.counts: Counter[str] = Counter()
        self.maps: dict[Task[Any], MapProgress] = {}
        self.retries = 0
        self.failures = 0
        self._latest: dict[tuple[Task[Any], int | None], State] = {}
        self._seen_tasks: set[Task[Any]] = set()

    @property
    def elapsed(self) -> float:
        end = self.ended if self.ended is not None else time.monotonic()
        return end - self.started

    @property
    def not_started(self) -> int:
        return self.n_tasks - len(self._seen_tasks)

    def __call__(self, obj: Any, old: State, new: State) -> None:
        if isinstance(obj, Flow):
            with self.lock:
                if self.flow_state is None:
                    self.started = time.monotonic()
                self.flow_state = new
                if new.is_finished():
                    self.ended = time.monotonic()
            self._emit("flow", new)
            return
        task: Task[Any] = obj
        index = new.map_index
        key = (task, index)
        progress: MapProgress | None = None
        map_done = False
        with self.lock:
            previous = self._latest.get(key)
            self._latest[key] = new
            if previous is not None:
                self._decrement(self.counts, previous.name)
            self.counts[new.name] += 1
            self._seen_tasks.add(task)
            if index is not None:
                progress = self.maps.get(task)
                if progress is not None:
                    if previous is not None:
                        self._decrement(progress.states, previous.name)
                    progress.states[new.name] += 1
                    was = previous is not None and _settled(task, previous)
                    now = _settled(task, new)
                    progress.finished += int(now) - int(was)
                    map_done = now and not was and progress.finished == progress.total
            elif isinstance(new, Mapped):
                progress = self.maps[task] = MapProgress(task, len(new.map_states))
                map_done = progress.total == 0
            if isinstance(new, Retrying):
                self.retries += 1
            elif _settled(task, new) and new.is_failed():
                self.failures += 1
        if isinstance(new, Mapped) and index is None:
            self._emit("mapped", new, task, progress)
        elif isinstance(new, Retrying):
            self._emit("retry", new, task)
        elif _settled(task, new):
            if new.is_failed():
                self._emit("failed", new, task)
            elif index is None:
                self._emit("finished", new, task)
        if map_done:
            assert progress is not None
            parent = self._latest.get((task, None), new)
            self._emit("map_done", parent, task, progress)

    @staticmethod
    def _decrement(counter: Counter[str], name: str) -> None:
        counter[name] -= 1
        if counter[name] <= 0:
            del counter[name]

    def _emit(
        self,
        kind: EventKind,
        state: State,
        task: Task[Any] | None = None,
        progress: MapProgress | None = None,
    ) -> None:
        if self.listener is not None:
            self.listener(Event(kind, self.elapsed, state, self.flow.name, task, progress))

    def snapshot(self) -> Snapshot:
        """A consistent copy of the counters, for drawing from another thread."""
        with self.lock:
            return Snapshot(
                flow_state=self.flow_state,
                elapsed=self.elapsed,
                counts=Counter(self.counts),
                not_started=self.not_started,
                maps=[
                    MapProgress(p.task, p.total, p.finished, Counter(p.states))
                    for p in self.maps.values()
                ],
                retries=self.retries,
                failures=self.failures,
            )


@dataclass
class Snapshot:
    flow_state: State | None
    elapsed: float
    counts: Counter[str]
    not_started: int
    maps: list[MapProgress]
    retries: int
    failures: int
