"""What the history gives back: flow runs, task runs and transitions as frozen records."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from .._core import _states

_UTC = datetime.timezone.utc


def _state_classes() -> dict[str, type[_states.State]]:
    found: dict[str, type[_states.State]] = {}
    stack: list[type[_states.State]] = [_states.State]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.__name__, cls)
        stack.extend(cls.__subclasses__())
    return found


_known: dict[str, type[_states.State]] = {}


def _state_class(name: str) -> type[_states.State] | None:
    cls = _known.get(name)
    if cls is None:  # a state class defined since the last look
        _known.update(_state_classes())
        cls = _known.get(name)
    return cls


def state_color(name: str) -> str:
    """The colour of the state class called ``name`` (grey for a name no class has)."""
    cls = _state_class(name)
    return cls.color if cls is not None else _states.State.color


def is_final(name: str) -> bool:
    """Whether a task run in the state ``name`` has stopped (finished, or paused)."""
    cls = _state_class(name)
    if cls is None:
        return True
    return issubclass(cls, (_states.Finished, _states.Paused))


def is_failure(name: str) -> bool:
    """Whether ``name`` is a failed state: ``Failed``, ``Crashed``, ``TimedOut``..."""
    cls = _state_class(name)
    return cls is not None and issubclass(cls, _states.Failed)


def to_datetime(seconds: float | None) -> datetime.datetime | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, _UTC)


def _decode(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class TransitionRecord:
    """One state change of a task run (or, with ``task`` None, of the flow run).

    ``task`` is the task's position in the flow's graph; ``map_index`` is set for the
    transitions of a mapped child.
    """

    id: int
    task: int | None
    map_index: int | None
    at: datetime.datetime
    old_state: str | None
    new_state: str
    message: str | None
    run_count: int
    result_location: str | None
    result_json: str | None
    error: str | None

    @property
    def value(self) -> Any:
        """The result's value when it was stored as JSON (by a JSONResult), else None."""
        return _decode(self.result_json)

    @property
    def color(self) -> str:
        return state_color(self.new_state)


@dataclass(frozen=True)
class TaskRunRecord:
    """One task run (a task, or one mapped child) and where it got to.

    ``task`` is the task's position in the flow's graph; with ``map_index`` it names the
    task run within its flow run. ``task_run_id`` is the engine's id for it, known when
    the run's code asked for ``context.task_run_id``.
    """

    task: int
    task_name: str
    task_slug: str
    map_index: int | None
    task_run_id: str | None
    state: str
    message: str | None
    run_count: int
    updated_at: datetime.datetime
    started_at: datetime.datetime | None
    result_location: str | None
    result_json: str | None
    error: str | None
    transitions: tuple[TransitionRecord, ...] = ()

    @property
    def full_name(self) -> str:
        if self.map_index is None:
            return self.task_name
        return f"{self.task_name}[{self.map_index}]"

    @property
    def is_finished(self) -> bool:
        return is_final(self.state)

    @property
    def succeeded(self) -> bool:
        """Whether it ended in a Success state (Cached, Mapped, Skipped included)."""
        cls = _state_class(self.state)
        return cls is not None and issubclass(cls, _states.Success)

    @property
    def ended_at(self) -> datetime.datetime | None:
        return self.updated_at if self.is_finished else None

    @property
    def duration(self) -> datetime.timedelta | None:
        """From the first Running to the final state (None while it runs, or if it never ran)."""
        if self.started_at is None or not self.is_finished:
            return None
        return self.updated_at - self.started_at

    @property
    def retries(self) -> int:
        return max(self.run_count - 1, 0)

    @property
    def value(self) -> Any:
        """The result's value when it was stored as JSON (by a JSONResult), else None."""
        return _decode(self.result_json)

    @property
    def color(self) -> str:
        return state_color(self.state)


@dataclass(frozen=True)
class FlowRunRecord:
    """One recorded flow run. ``id`` is the database's; ``flow_run_id`` the engine's."""

    id: int
    flow_run_id: str
    flow_name: str
    state: str
    message: str | None
    parameters: dict[str, Any]
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    updated_at: datetime.datetime
    task_count: int
    #: The id of the run this one restarted (``flow.run(restart_from=...)``), if any.
    restart_of: int | None = None
    #: The process that ran it, and its last heartbeat (None in rows from before these
    #: were recorded). A run whose process is gone reads as ``Crashed``.
    host: str | None = None
    pid: int | None = None
    heartbeat_at: datetime.datetime | None = None
    #: When someone asked for the run to be cancelled (see ``asyncflow.history.cancel_run``);
    #: the run is *cancelling* until it ends.
    cancel_requested_at: datetime.datetime | None = None

    @property
    def is_finished(self) -> bool:
        """Whether it ended (or crashed: it will not go on)."""
        return self.ended_at is not None or self.state == "Crashed"

    @property
    def is_crashed(self) -> bool:
        return self.state == "Crashed"

    @property
    def is_cancelling(self) -> bool:
        """Whether it was asked to cancel and has not ended yet."""
        return self.cancel_requested_at is not None and not self.is_finished

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    @property
    def color(self) -> str:
        return state_color(self.state)


@dataclass(frozen=True)
class FlowRunDetail:
    """A flow run with its task runs, its own transitions and its task graph."""

    run: FlowRunRecord
    task_runs: tuple[TaskRunRecord, ...]
    transitions: tuple[TransitionRecord, ...]
    #: ``{"tasks": [[slug, name, mapped], ...], "edges": [[up, down, key, mapped], ...]}``
    #: (edges name their tasks by slug; a task's position in "tasks" is its ``task``)
    graph: dict[str, Any] = field(default_factory=dict)
    dag_svg: str | None = None
