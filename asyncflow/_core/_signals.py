"""Signals: exceptions a task raises to end its run in a chosen state.

Signals derive from ``BaseException`` (through :class:`Signal`), so a broad
``except Exception`` in user code does not swallow them. The signal object becomes the
state's result unless ``result=`` is given, so attributes set on it reach state handlers::

    fail = FAIL("a equaled b!")
    fail.flag = True
    raise fail          # a handler then reads new_state.result.flag
"""

from __future__ import annotations

from typing import Any

from ._states import Failed, Looped, Paused, Retrying, Skipped, State, Success, TriggerFailed


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
    """Base class of the signals; ``state`` is the State class the task ends in."""

    state: type[State] = State

    def __init__(self, message: str | None = None, *, result: Any = _UNSET) -> None:
        super().__init__(message)
        self.message = message
        self._result = result

    @property
    def result(self) -> Any:
        """What the resulting state carries: ``result=`` if given, else the signal itself."""
        return self if self._result is _UNSET else self._result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class FAIL(Signal):
    """End the task run as Failed. Retries apply as for any failure."""

    state = Failed


class TRIGGERFAIL(FAIL):
    """Raised by a trigger: the task ends TriggerFailed and is not retried."""

    state = TriggerFailed


class SUCCESS(Signal):
    """End the task run as Success."""

    state = Success


class RETRY(Signal):
    """Ask for another attempt now (Retrying), whatever ``max_retries`` says."""

    state = Retrying


class SKIP(Signal):
    """End the task run as Skipped; downstream tasks skip too unless they opt out."""

    state = Skipped


class PAUSE(Signal):
    """End the task run as Paused; pass the state back through ``task_states`` to resume."""

    state = Paused


class LOOP(Signal):
    """Run the task again with ``task_loop_result`` (this signal's result) in context."""

    state = Looped


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
