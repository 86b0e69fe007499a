"""The State base class: a run's message, its value and metadata, and what it can say of
itself.

States are small objects that are treated as immutable once a run has published them.
``state.result`` is the value; ``state._result`` is the :class:`~asyncflow.results.Result`
that holds it (with its ``location`` when it was persisted). The classes derived from
:class:`State` (Pending, Success, Failed...) are in :mod:`asyncflow._core._states`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from typing_extensions import Self

from ._attached import attached
from ._context import _overlay_var
from ._exceptions import FlowRunError
from ._sentinel import sentinel
from ._slots import slots_of
from ._unread import load_value, unread_error, unread_in

if TYPE_CHECKING:
    from .._results._base import Result
    from ._task import Task

T = TypeVar("T")

#: What ``result`` is when a state was given none: distinct from a ``None`` value, so a
#: state that never produced data reads as ``NoResult`` rather than ``Result(None)``.
_NO_RESULT: Any = sentinel("no result")


def _task_name(task: Any) -> str:
    return str(getattr(task, "slug", None) or getattr(task, "name", task))


class ResultInterface:
    """What a state accepts as an already built Result (``Success(result=Result(10))``).

    :class:`~asyncflow.results.Result` derives from it; the engine core checks against
    this class so that it needs nothing from the results package to build a state.
    """

    __slots__ = ()

    value: Any


class State:
    """Base class of every state.

    ``message`` says why the state was entered; ``result`` is the value the state
    carries (a task's return value, an exception, a signal), or a
    :class:`~asyncflow.results.Result` holding it; ``context`` is a dict of metadata
    (``tags`` when made inside ``context(task_tags=...)``); ``cached_inputs`` the inputs
    a run used; ``map_index`` is set on the states of mapped children; ``run_count``
    counts the attempts of the run so far. A state made without ``result`` reads as
    :data:`~asyncflow.results.NoResult`: it never produced data.
    """

    __slots__ = ("_cached_inputs", "_context", "_result_obj", "_value", "map_index",
                 "message", "run_count")

    color = "#999999"

    # What kind of state this is, for the ``is_*`` predicates: each class of the hierarchy
    # (in asyncflow._core._states) turns on its own flag, and its subclasses inherit it, so
    # ``is_failed()`` is True for a TimedOut just as ``isinstance(state, Failed)`` is.
    _pending = _scheduled = _paused = _retrying = _running = False
    _finished = _successful = _failed = _skipped = _cached = _mapped = False
    _looped = _cancelled = _timed_out = _trigger_failed = False

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
        map_index: int | None = None,
        run_count: int = 0,
    ) -> None:
        self.message = message
        if isinstance(result, ResultInterface):
            self._result_obj: Result | None = result  # type: ignore[assignment]
            self._value = result.value
        else:
            self._value = result
            self._result_obj = None
        self.map_index = map_index
        self.run_count = run_count
        overlay = _overlay_var.get()
        if overlay is not None and "task_tags" in overlay:
            tags = overlay["task_tags"]
            if tags is not None and (context is None or "tags" not in context):
                context = {**(context or {}), "tags": list(tags)}
        self._context = context
        self._cached_inputs = cached_inputs

    # ---- metadata ----------------------------------------------------------------
    @property
    def context(self) -> dict[str, Any]:
        """Metadata about the state (``tags``, ``task_run_count`` on scheduled states)."""
        ctx = self._context
        if ctx is None:
            ctx = self._context = {}
        return ctx

    @context.setter
    def context(self, value: dict[str, Any] | None) -> None:
        self._context = value

    @property
    def cached_inputs(self) -> dict[str, Any]:
        """The inputs a task run used, kept for retries and cache validation."""
        inputs = self._cached_inputs
        if inputs is None:
            inputs = self._cached_inputs = {}
        return inputs

    @cached_inputs.setter
    def cached_inputs(self, value: dict[str, Any] | None) -> None:
        self._cached_inputs = value

    # ---- results -------------------------------------------------------------
    @property
    def result(self) -> Any:
        """The value this state carries (None when it carries none)."""
        obj = self._result_obj
        if obj is not None:
            return obj.value
        value = self._value
        return None if value is _NO_RESULT else value

    @result.setter
    def result(self, value: Any) -> None:
        if isinstance(value, ResultInterface):
            self._result = value  # type: ignore[assignment]
            return
        self._value = value
        self._result_obj = None

    @property
    def _result(self) -> Result:
        """The Result object holding the value (with its location, once persisted).

        :data:`~asyncflow.results.NoResult` for a state that was given no result.
        """
        obj = self._result_obj
        if obj is None:
            if self._value is _NO_RESULT:
                return attached.no_result()  # type: ignore[return-value]
            obj = self._result_obj = attached.wrap_value(self._value)  # type: ignore[assignment]
        return obj  # type: ignore[return-value]

    @_result.setter
    def _result(self, obj: Result) -> None:
        self._result_obj = obj
        self._value = obj.value

    def result_of(self, task: Task[T]) -> T:
        """What ``task`` produced in the flow run that ended in this state.

        ``state.result[task].result``, typed: for ``t: Task[int]`` it is an ``int``. Raises
        :class:`~asyncflow.FlowRunError` when the task did not succeed (its state holds an
        exception, not a value), is not a task of the run, or was kept by a restart
        without its value being read (then use :meth:`load_result_of`).
        """
        state = self._succeeded(task)
        unread = unread_in(state)
        if unread is not None:
            raise unread_error(_task_name(task), unread)
        return cast("T", state.result)

    async def load_result_of(self, task: Task[T]) -> T:
        """:meth:`result_of`, reading a value that a restart kept without reading it
        from where its Result stored it (see :meth:`load_result`)."""
        return cast("T", await load_value(self._succeeded(task)))

    async def load_result(self) -> Any:
        """The value this state carries, like ``result``; for a task run a restart kept
        without reading its value, the value read from its Result's location (once:
        the state keeps it)."""
        return await load_value(self)

    def _succeeded(self, task: Task[Any]) -> State:
        """The state of ``task`` in this flow run's final state, if it succeeded."""
        states = self.result
        if not isinstance(states, dict):
            raise FlowRunError(
                f"result_of() reads the final state of a flow run; {self!r} maps no tasks to "
                "states (the run ended before its tasks ran, or this is a task's own state: "
                "read its .result)"
            )
        state = states.get(task)
        name = _task_name(task)
        if not isinstance(state, State):
            raise FlowRunError(
                f"{name!r} is not a task of this flow run; pass what the call returned inside "
                "`with Flow(...)` (as in `total = add(1, 2)`), not the decorated function"
            )
        children: Sequence[State] = getattr(state, "map_states", ()) if state.is_mapped() else ()
        bad_child = any(c.is_failed() for c in children)
        if not state.is_successful() or state.is_skipped() or bad_child:
            more = " and .map_states for its children" if bad_child else ""
            raise FlowRunError(f"task {name!r} ended {state}, so it has no value; read "
                               f"state.result[task] for its state{more}")
        return state

    # ---- predicates ------------------------------------------------------------
    def is_pending(self) -> bool:
        """True for ``Pending`` and its subclasses: ``Scheduled``, ``Paused``, ``Retrying``..."""
        return self._pending

    def is_scheduled(self) -> bool:
        """True if this state is a ``Scheduled`` or a subclass of it."""
        return self._scheduled

    def is_paused(self) -> bool:
        """True if this state is a ``Paused`` or a subclass of it."""
        return self._paused

    def is_retrying(self) -> bool:
        """True if this state is a ``Retrying`` or a subclass of it."""
        return self._retrying

    def is_running(self) -> bool:
        """True if this state is a ``Running`` or a subclass of it."""
        return self._running

    def is_finished(self) -> bool:
        """True if this state is a ``Finished`` or a subclass of it: every end state."""
        return self._finished

    def is_successful(self) -> bool:
        """True for ``Success`` and its subclasses: ``Cached``, ``Mapped``, ``Skipped``."""
        return self._successful

    def is_failed(self) -> bool:
        """True for ``Failed`` and its subclasses: ``TimedOut``, ``TriggerFailed``."""
        return self._failed

    def is_skipped(self) -> bool:
        """True if this state is a ``Skipped`` or a subclass of it."""
        return self._skipped

    def is_cached(self) -> bool:
        """True if this state is a ``Cached`` or a subclass of it."""
        return self._cached

    def is_mapped(self) -> bool:
        """True if this state is a ``Mapped`` or a subclass of it."""
        return self._mapped

    def is_looped(self) -> bool:
        """True if this state is a ``Looped`` or a subclass of it."""
        return self._looped

    def is_cancelled(self) -> bool:
        """True if this state is a ``Cancelled`` or a subclass of it."""
        return self._cancelled

    def is_timed_out(self) -> bool:
        """True if this state is a ``TimedOut`` or a subclass of it."""
        return self._timed_out

    def is_trigger_failed(self) -> bool:
        """True if this state is a ``TriggerFailed`` or a subclass of it."""
        return self._trigger_failed

    def is_meta_state(self) -> bool:
        """Always False: asyncflow has no meta states (Prefect Cloud's Queued, Submitted)."""
        return False

    # ---- the hierarchy ---------------------------------------------------------
    @classmethod
    def children(cls, include_self: bool = False, names_only: bool = False) -> list[Any]:
        """Every state class derived from this one (and this one, with ``include_self``)."""
        found: list[type[State]] = [cls] if include_self else []
        stack = list(cls.__subclasses__())
        while stack:
            sub = stack.pop()
            if sub not in found:
                found.append(sub)
                stack.extend(sub.__subclasses__())
        return [c.__name__ for c in found] if names_only else found

    @classmethod
    def parents(cls, include_self: bool = False, names_only: bool = False) -> list[Any]:
        """The state classes this one derives from, nearest first."""
        found = [c for c in cls.__mro__ if issubclass(c, State) and (include_self or c is not cls)]
        return [c.__name__ for c in found] if names_only else found

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
        """Equal states have the same type, value, cached inputs and map index.

        The message and the context do not count, as in Prefect 1.x.
        """
        if type(self) is not type(other):
            return NotImplemented
        assert isinstance(other, State)
        return (
            self.map_index == other.map_index
            and _same_value(self.result, other.result)
            and _same_value(self._cached_inputs or {}, other._cached_inputs or {})
        )

    __hash__ = object.__hash__

    def copy(self) -> Self:
        """A shallow copy: the same value, context and inputs, as a new state object."""
        cls = type(self)
        new = cls.__new__(cls)
        for name in slots_of(cls):
            try:
                object.__setattr__(new, name, getattr(self, name))
            except AttributeError:
                continue
        return new

    # ---- pickling ----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in slots_of(type(self)):
            try:
                out[name] = getattr(self, name)
            except AttributeError:
                continue
        value = out.get("_value")
        if isinstance(value, BaseException):
            out["_value"] = _picklable_exception(value)
            if out.get("_result_obj") is not None and out["_value"] is not value:
                out["_result_obj"] = None
        return out

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


def _picklable_exception(exc: BaseException) -> Any:
    """``exc`` if it pickles, else a string that says what it was and why it did not."""
    import cloudpickle

    try:
        cloudpickle.dumps(exc)
    except Exception as pickle_exc:
        return (f"The following exception could not be pickled and was replaced by its "
                f"repr: {exc!r}. Pickling it raised: {pickle_exc!r}")
    return exc


def _same_value(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False
