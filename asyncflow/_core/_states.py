"""States: what a task run or a flow run is doing, or how it ended.

The hierarchy is the one users of Prefect 1.x know::

    State
    ├── Pending
    │   └── Scheduled
    │       ├── Paused
    │       ├── Resume
    │       └── Retrying
    ├── Running
    └── Finished
        ├── Success
        │   ├── Cached
        │   ├── Mapped
        │   └── Skipped
        ├── Failed
        │   ├── TimedOut
        │   └── TriggerFailed
        ├── Looped
        └── Cancelled

States are small objects that are treated as immutable once a run has published them.
``state.result`` is the value; ``state._result`` is the :class:`~asyncflow.results.Result`
that holds it (with its ``location`` when it was persisted).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._results._base import Result

_NO_VALUE: Any = object()


class State:
    """Base class of every state.

    ``message`` says why the state was entered; ``result`` is the value the state
    carries (a task's return value, an exception, a signal); ``map_index`` is set on the
    states of mapped children; ``run_count`` counts the attempts of the run so far.
    """

    __slots__ = ("_result_obj", "_value", "context", "map_index", "message", "run_count")

    color = "#999999"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        map_index: int | None = None,
        run_count: int = 0,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self._value = result
        self._result_obj: Result | None = None
        self.map_index = map_index
        self.run_count = run_count
        self.context = context

    # ---- results -------------------------------------------------------------
    @property
    def result(self) -> Any:
        """The value this state carries."""
        obj = self._result_obj
        if obj is not None:
            return obj.value
        return self._value

    @result.setter
    def result(self, value: Any) -> None:
        self._value = value
        self._result_obj = None

    @property
    def _result(self) -> Result:
        """The Result object holding the value (with its location, once persisted)."""
        obj = self._result_obj
        if obj is None:
            from .._results._base import Result

            obj = self._result_obj = Result(value=self._value)
        return obj

    @_result.setter
    def _result(self, obj: Result) -> None:
        self._result_obj = obj
        self._value = obj.value

    # ---- predicates ------------------------------------------------------------
    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_scheduled(self) -> bool:
        return isinstance(self, Scheduled)

    def is_paused(self) -> bool:
        return isinstance(self, Paused)

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_looped(self) -> bool:
        return isinstance(self, Looped)

    def is_cancelled(self) -> bool:
        return isinstance(self, Cancelled)

    def is_timed_out(self) -> bool:
        return isinstance(self, TimedOut)

    def is_trigger_failed(self) -> bool:
        return isinstance(self, TriggerFailed)

    # ---- display ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """The state's class name, e.g. ``"Success"``."""
        return type(self).__name__

    def __repr__(self) -> str:
        if self.message:
            return f'<{type(self).__name__}: "{self.message}">'
        return f"<{type(self).__name__}>"

    def __str__(self) -> str:
        if self.message:
            return f'{type(self).__name__}("{self.message}")'
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        """Two states are equal when they have the same type, message and value."""
        if type(self) is not type(other):
            return NotImplemented
        assert isinstance(other, State)
        return (
            self.message == other.message
            and self.map_index == other.map_index
            and _same_value(self.result, other.result)
        )

    __hash__ = object.__hash__


def _same_value(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


class Pending(State):
    """The run has not started yet."""

    __slots__ = ("cached_inputs",)
    color = "#d3d3d3"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        cached_inputs: dict[str, Any] | None = None,
        map_index: int | None = None,
        run_count: int = 0,
        context: dict[str, Any] | None = None,
    ) -> None:
        # Spelled out rather than **kwargs: the engine makes one per mapped child.
        State.__init__(self, message, result, map_index=map_index, run_count=run_count,
                       context=context)
        self.cached_inputs = cached_inputs


class Scheduled(Pending):
    """The run is due at ``start_time``."""

    __slots__ = ("start_time",)
    color = "#ffab00"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        self.start_time = start_time


class Paused(Scheduled):
    """The run waits for approval: pass this state back through ``task_states`` to resume."""

    __slots__ = ()
    color = "#99ccff"


class Resume(Scheduled):
    """An approval for a paused task: the task runs even when its trigger is ``manual_only``."""

    __slots__ = ()
    color = "#99ccff"


class Retrying(Scheduled):
    """The run failed and will be attempted again at ``start_time``."""

    __slots__ = ()
    color = "#ffe135"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        run_count: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, start_time, run_count=run_count, **kwargs)


class Running(State):
    """The run is in progress."""

    __slots__ = ()
    color = "#00ccff"


class Finished(State):
    """The run is over."""

    __slots__ = ()
    color = "#7a7a7a"


class Success(Finished):
    """The run succeeded."""

    __slots__ = ()
    color = "#28a745"


class Cached(Success):
    """The result came from a cache or an existing target instead of running the task."""

    __slots__ = ("cached_inputs", "cached_parameters", "cached_result_expiration")
    color = "#2eb82e"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        cached_inputs: dict[str, Any] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cached_result_expiration: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        self.cached_inputs = cached_inputs
        self.cached_parameters = cached_parameters
        self.cached_result_expiration = cached_result_expiration


class Mapped(Success):
    """The task was mapped: ``map_states`` holds one state per child, in order."""

    __slots__ = ("map_states",)
    color = "#97fffc"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        map_states: Sequence[State] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        self.map_states: list[State] = list(map_states) if map_states is not None else []

    @property
    def n_map_states(self) -> int:
        return len(self.map_states)


class Skipped(Success):
    """The task did not run, on purpose: a SKIP signal or a skipped upstream."""

    __slots__ = ()
    color = "#62757f"


class Failed(Finished):
    """The run failed."""

    __slots__ = ()
    color = "#eb0000"


class TimedOut(Failed):
    """The run took longer than its timeout."""

    __slots__ = ()
    color = "#cc6600"


class TriggerFailed(Failed):
    """The task's trigger refused to run it, given its upstream states."""

    __slots__ = ()
    color = "#c42800"


class Looped(Finished):
    """The task raised LOOP and will run again with ``task_loop_result`` in context."""

    __slots__ = ("loop_count",)
    color = "#9370db"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        loop_count: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        self.loop_count = loop_count


class Cancelled(Finished):
    """The run was cancelled before it finished."""

    __slots__ = ()
    color = "#bdbdbd"


ALL_STATES: tuple[type[State], ...] = (
    State,
    Pending,
    Scheduled,
    Paused,
    Resume,
    Retrying,
    Running,
    Finished,
    Success,
    Cached,
    Mapped,
    Skipped,
    Failed,
    TimedOut,
    TriggerFailed,
    Looped,
    Cancelled,
)
