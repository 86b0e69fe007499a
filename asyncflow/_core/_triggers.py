"""Triggers: functions of a task's upstream states that decide whether it runs.

A trigger is called with a dict mapping each upstream :class:`~asyncflow.Edge` to that
upstream's state, as in Prefect 1.x (``def my_trigger(upstream_states): ...
upstream_states.values()``); the built-in triggers also take any iterable of states. A
mapped upstream counts as its children's states. A trigger returns True to run the
task; returning False ends the task ``TriggerFailed``; it may also raise a signal
(``TRIGGERFAIL``, ``PAUSE``, ``SKIP``) to say why. Triggers run after the upstream-skip
check (``skip_on_upstream_skip``), and a mapped task's trigger runs once per child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

from ._context import context
from ._signals import PAUSE, SKIP, TRIGGERFAIL
from ._states import Mapped, State

UpstreamStates = Mapping[Any, State] | Iterable[State]
Trigger = Callable[[Any], bool]


def upstream_state_set(upstream_states: UpstreamStates) -> set[State]:
    """Every upstream state once, a mapped upstream replaced by its children's states."""
    values = upstream_states.values() if isinstance(upstream_states, Mapping) else upstream_states
    found: set[State] = set()
    for state in values:
        if isinstance(state, Mapped):
            found.update(state.map_states)
        else:
            found.add(state)
    return found


def all_successful(upstream_states: UpstreamStates) -> bool:
    """Run when every upstream succeeded (the default). Skipped and Cached count as success."""
    if not all(s.is_successful() for s in upstream_state_set(upstream_states)):
        raise TRIGGERFAIL(
            'Trigger was "all_successful" but some of the upstream tasks failed.'
        )
    return True


def all_failed(upstream_states: UpstreamStates) -> bool:
    """Run when every upstream failed (clean-up after a total failure)."""
    if not all(s.is_failed() for s in upstream_state_set(upstream_states)):
        raise TRIGGERFAIL('Trigger was "all_failed" but some of the upstream tasks succeeded.')
    return True


def any_successful(upstream_states: UpstreamStates) -> bool:
    """Run when at least one upstream succeeded (or there are none)."""
    states = upstream_state_set(upstream_states)
    if states and not any(s.is_successful() for s in states):
        raise TRIGGERFAIL('Trigger was "any_successful" but none of the upstream tasks succeeded.')
    return True


def any_failed(upstream_states: UpstreamStates) -> bool:
    """Run when at least one upstream failed (or there are none)."""
    states = upstream_state_set(upstream_states)
    if states and not any(s.is_failed() for s in states):
        raise TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def all_finished(upstream_states: UpstreamStates) -> bool:
    """Run once every upstream finished, however it ended (clean-up tasks)."""
    if not all(s.is_finished() for s in upstream_state_set(upstream_states)):
        raise TRIGGERFAIL('Trigger was "all_finished" but some of the upstream tasks were not finished.')
    return True


#: The Prefect 1.x name of :func:`all_finished`.
always_run = all_finished


def manual_only(upstream_states: UpstreamStates) -> bool:
    """Never run on its own: the task pauses until resumed with a ``Resume`` or ``Paused`` state."""
    if context.get("resume"):
        return True
    raise PAUSE('Trigger function is "manual_only"')


def not_all_skipped(upstream_states: UpstreamStates) -> bool:
    """Run when every upstream succeeded and at least one did not skip."""
    states = upstream_state_set(upstream_states)
    if all(s.is_skipped() for s in states):
        raise SKIP("All upstream tasks were skipped.", result=None)
    if not all(s.is_successful() for s in states):
        raise TRIGGERFAIL('Trigger was "not_all_skipped" but some of the upstream tasks failed.')
    return True


def _check_bound(name: str, label: str, value: float | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
    ):
        raise ValueError(f"{name}: {label} must be a count or a fraction >= 0, got {value!r}")


class _CountTrigger:
    """A trigger that counts matching upstream states against bounds (picklable)."""

    __slots__ = ("at_least", "at_most", "name", "wanted")

    def __init__(self, name: str, wanted: Callable[[State], bool],
                 at_least: float | None, at_most: float | None) -> None:
        _check_bound(name, "at_least", at_least)
        _check_bound(name, "at_most", at_most)
        self.name = name
        self.wanted = wanted
        self.at_least = at_least
        self.at_most = at_most

    @property
    def __name__(self) -> str:
        return self.name

    def __call__(self, upstream_states: UpstreamStates) -> bool:
        states = upstream_state_set(upstream_states)
        if not states:
            return True
        total = len(states)
        count = sum(1 for s in states if self.wanted(s))
        at_least, at_most = self.at_least, self.at_most
        low = 0.0 if at_least is None else (at_least * total if at_least < 1 else at_least)
        high = float(total) if at_most is None else (at_most * total if at_most < 1 else at_most)
        if not low <= count <= high:
            raise TRIGGERFAIL(
                f'Trigger was "{self.name}" but thresholds were not met: {count} of {total} '
                f"upstream tasks matched (at_least={at_least}, at_most={at_most})."
            )
        return True

    def __repr__(self) -> str:
        return f"{self.name}(at_least={self.at_least!r}, at_most={self.at_most!r})"


def _is_upstream_states(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(s, State) for s in value.values())


def _count_trigger(name: str, counts: Callable[[State], bool], at_least: Any,
                   at_most: float | None) -> Any:
    """The bounded trigger, or, when given upstream states (the factory used bare as a
    trigger), the unbounded trigger's verdict on them."""
    if _is_upstream_states(at_least):
        return _CountTrigger(name, counts, None, None)(at_least)
    return _CountTrigger(name, counts, at_least, at_most)


@overload
def some_successful(at_least: Mapping[Any, State], at_most: None = None) -> bool: ...


@overload
def some_successful(at_least: float | None = None, at_most: float | None = None) -> Trigger: ...


def some_successful(at_least: Any = None, at_most: float | None = None) -> Any:
    """Run when the number (or fraction, if < 1) of successful upstreams is within bounds.

    Given bare as a trigger (``trigger=some_successful``), it is called with the upstream
    states and acts as ``some_successful()``: no bounds.
    """
    return _count_trigger("some_successful", State.is_successful, at_least, at_most)


@overload
def some_failed(at_least: Mapping[Any, State], at_most: None = None) -> bool: ...


@overload
def some_failed(at_least: float | None = None, at_most: float | None = None) -> Trigger: ...


def some_failed(at_least: Any = None, at_most: float | None = None) -> Any:
    """Run when the number (or fraction, if < 1) of failed upstreams is within bounds.

    Given bare as a trigger (``trigger=some_failed``), it is called with the upstream
    states and acts as ``some_failed()``: no bounds.
    """
    return _count_trigger("some_failed", State.is_failed, at_least, at_most)
