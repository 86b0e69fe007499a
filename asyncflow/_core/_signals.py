"""Signals: exceptions a task raises to end its run in a chosen state.

Signals derive from ``BaseException`` (through :class:`Signal`), so a broad
``except Exception`` in user code does not swallow them. The signal object becomes the
state's result unless ``result=`` is given, so attributes set on it reach state handlers::

    fail = FAIL("a equaled b!")
    fail.flag = True
    raise fail          # a handler then reads new_state.result.flag
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._states import (
    Failed,
    Looped,
    Paused,
    Retrying,
    Skipped,
    State,
    Success,
    TriggerFailed,
    ValidationFailed,
)


class _Unset:
    """The "no result given" marker; pickles to the same object, so it survives transport."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> tuple[type[_Unset], tuple[()]]:
        return (_Unset, ())

    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


class Signal(BaseException):
    """Base class of the signals; ``state`` is the State the task ends in.

    Extra keyword arguments go to that state (``RETRY(start_time=..., run_count=...)``);
    an argument the state does not take is a ``TypeError`` at once.
    """

    _state_cls: ClassVar[type[State]] = State

    def __init__(self, message: str | None = None, *args: Any, result: Any = _UNSET,
                 **kwargs: Any) -> None:
        super().__init__(message)
        self.message = message
        self.state: State = self._state_cls(
            message, self._default_result() if result is _UNSET else result, *args, **kwargs
        )

    def _default_result(self) -> Any:
        return self

    @property
    def result(self) -> Any:
        """What the resulting state carries: ``result=`` if given, else the signal itself."""
        return self.state.result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class FAIL(Signal):
    """End the task run as Failed. Retries apply as for any failure."""

    _state_cls = Failed


class TRIGGERFAIL(FAIL):
    """Raised by a trigger: the task ends TriggerFailed and is not retried."""

    _state_cls = TriggerFailed


class VALIDATIONFAIL(FAIL):
    """A check of the task's result refused it: the task ends ValidationFailed."""

    _state_cls = ValidationFailed


class SUCCESS(Signal):
    """End the task run as Success."""

    _state_cls = Success


class RETRY(Signal):
    """Ask for another attempt (Retrying at ``start_time``, default now), whatever
    ``max_retries`` says."""

    _state_cls = Retrying


class SKIP(Signal):
    """End the task run as Skipped; downstream tasks skip too unless they opt out."""

    _state_cls = Skipped


class PAUSE(Signal):
    """End the task run as Paused; pass the state back through ``task_states`` to resume."""

    _state_cls = Paused


class LOOP(Signal):
    """Run the task again with ``task_loop_result`` (this signal's result) in context."""

    _state_cls = Looped

    def _default_result(self) -> Any:
        return repr(self)


_SIGNAL_FOR: dict[type[State], type[Signal]] = {
    TriggerFailed: TRIGGERFAIL,
    ValidationFailed: VALIDATIONFAIL,
    Failed: FAIL,
    Success: SUCCESS,
    Retrying: RETRY,
    Skipped: SKIP,
    Paused: PAUSE,
    Looped: LOOP,
}


def signal_from_state(state: State) -> type[Signal]:
    """The signal class that ends a task run in ``state``'s kind of state.

    A state with no signal of its own gets its nearest parent's (``TimedOut`` gives
    ``FAIL``, ``Cached`` gives ``SUCCESS``); one with none at all (``Pending``,
    ``Running``) is a ``ValueError``.
    """
    for cls in type(state).__mro__:
        signal = _SIGNAL_FOR.get(cls)
        if signal is not None:
            return signal
    raise ValueError(
        f"no signal ends a task run in {type(state).__name__}; signals exist for "
        f"{', '.join(sorted(c.__name__ for c in _SIGNAL_FOR))}"
    )


class ENDRUN(BaseException):
    """End the task run with exactly the given state."""

    def __init__(self, state: State) -> None:
        if not isinstance(state, State):
            raise TypeError(
                f"ENDRUN takes a State instance, got {state!r}; "
                "write for example: raise ENDRUN(Success('done'))"
            )
        super().__init__(state.message)
        self.state = state
