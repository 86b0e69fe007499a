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
        │   ├── Crashed
        │   ├── TimedOut
        │   ├── TriggerFailed
        │   └── ValidationFailed
        ├── Looped
        └── Cancelled

The root, :class:`State` (its value, metadata, predicates and pickling), is in
:mod:`asyncflow._core._state`; this module holds the classes derived from it. Each turns
on the flag of its own ``is_*`` predicate (``_failed = True`` makes ``is_failed()`` True
for Failed and everything derived from it).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from ._context import context as run_context

# State is imported from here with the classes derived from it (one family, one module
# to import it from); it is defined in _state.py.
from ._state import _NO_RESULT, State as State

_utcnow = datetime.datetime.now
_UTC = datetime.timezone.utc


class Pending(State):
    """The run has not started yet."""

    __slots__ = ()
    _pending = True
    color = "#d3d3d3"

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        cached_inputs: dict[str, Any] | None = None,
        map_index: int | None = None,
        run_count: int = 0,
        context: dict[str, Any] | None = None,
    ) -> None:
        # Spelled out rather than **kwargs: the engine makes one per mapped child.
        State.__init__(self, message, result, map_index=map_index, run_count=run_count,
                       context=context, cached_inputs=cached_inputs)


class Scheduled(Pending):
    """The run is due at ``start_time`` (now, when not given).

    Made inside a task run, its context records the ``task_run_count`` so far.
    """

    __slots__ = ("start_time",)
    _scheduled = True
    color = "#ffab00"

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        start_time: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        self.start_time = start_time if start_time is not None else self._default_start()
        run_count = run_context.get("task_run_count")
        if run_count is not None:
            self.context.setdefault("task_run_count", run_count)

    def _default_start(self) -> datetime.datetime | None:
        return _utcnow(_UTC)


class Paused(Scheduled):
    """The run waits for approval: pass this state back through ``task_states`` to resume.

    Unlike other scheduled states it has no start time unless one is given.
    """

    __slots__ = ()
    _paused = True
    color = "#99ccff"

    def _default_start(self) -> datetime.datetime | None:
        return None


class Resume(Scheduled):
    """An approval for a paused task: the task runs even when its trigger is ``manual_only``."""

    __slots__ = ()
    color = "#99ccff"


class Retrying(Scheduled):
    """The run failed and will be attempted again at ``start_time``.

    ``run_count`` defaults to the current ``task_run_count``, or 1 outside a task run.
    """

    __slots__ = ()
    _retrying = True
    color = "#ffe135"

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        start_time: datetime.datetime | None = None,
        run_count: int | None = None,
        **kwargs: Any,
    ) -> None:
        if run_count is None:
            run_count = run_context.get("task_run_count") or 1
        super().__init__(message, result, start_time, run_count=run_count, **kwargs)


class Running(State):
    """The run is in progress."""

    __slots__ = ()
    _running = True
    color = "#00ccff"


class Finished(State):
    """The run is over."""

    __slots__ = ()
    _finished = True
    color = "#7a7a7a"


class Success(Finished):
    """The run succeeded."""

    __slots__ = ()
    _successful = True
    color = "#28a745"


class Cached(Success):
    """The result came from a cache or an existing target instead of running the task."""

    __slots__ = ("cached_parameters", "cached_result_expiration")
    _cached = True
    color = "#2eb82e"

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        cached_inputs: dict[str, Any] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cached_result_expiration: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, cached_inputs=cached_inputs, **kwargs)
        self.cached_parameters = cached_parameters
        self.cached_result_expiration = cached_result_expiration


class Mapped(Success):
    """The task was mapped: ``map_states`` holds one state per child, in order."""

    __slots__ = ("_n_map_states", "map_states")
    _mapped = True
    color = "#97fffc"

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        map_states: Sequence[State] | None = None,
        n_map_states: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        self.map_states: list[State] = list(map_states) if map_states is not None else []
        self._n_map_states = n_map_states

    @property
    def n_map_states(self) -> int:
        """How many children the task was mapped into."""
        n = self._n_map_states
        return len(self.map_states) if n is None else n


class Skipped(Success):
    """The task did not run, on purpose: a SKIP signal or a skipped upstream."""

    __slots__ = ()
    _skipped = True
    color = "#62757f"


class Failed(Finished):
    """The run failed."""

    __slots__ = ()
    _failed = True
    color = "#eb0000"


class Crashed(Failed):
    """The process running it went away (killed, or the machine stopped) before it
    finished; the history reads a run whose process is gone, and its unfinished task
    runs, as Crashed."""

    __slots__ = ()
    color = "#8b0000"


class TimedOut(Failed):
    """The run took longer than its timeout."""

    __slots__ = ()
    _timed_out = True
    color = "#cc6600"


class TriggerFailed(Failed):
    """The task's trigger refused to run it, given its upstream states."""

    __slots__ = ()
    _trigger_failed = True
    color = "#c42800"


class ValidationFailed(Failed):
    """A task's result was refused by a check of it (kept for Prefect 1.x's hierarchy)."""

    __slots__ = ()
    color = "#ff6347"


class Looped(Finished):
    """The task raised LOOP and will run again with ``task_loop_result`` in context."""

    __slots__ = ("loop_count",)
    _looped = True
    color = "#9370db"

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        loop_count: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, result, **kwargs)
        if loop_count is None:
            loop_count = run_context.get("task_loop_count") or 1
        self.loop_count = loop_count


class Cancelled(Finished):
    """The run was cancelled before it finished."""

    __slots__ = ()
    _cancelled = True
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
    Crashed,
    TimedOut,
    TriggerFailed,
    ValidationFailed,
    Looped,
    Cancelled,
)
