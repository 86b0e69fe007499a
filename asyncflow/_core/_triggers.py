"""Triggers: functions of a task's upstream states that decide whether it runs.

A trigger takes the upstream states (a mapped upstream counts as its children's states)
and returns True to run the task. Returning False ends the task ``TriggerFailed``; a
trigger may also raise a signal (``TRIGGERFAIL``, ``PAUSE``, ``SKIP``) to say why.
Triggers run after the upstream-skip check (``skip_on_upstream_skip``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._context import context
from ._signals import PAUSE, TRIGGERFAIL
from ._states import State

Trigger = Callable[[Sequence[State]], bool]


def all_successful(upstream_states: Sequence[State]) -> bool:
    """Run when every upstream succeeded (the default)."""
    for state in upstream_states:
        if not state.is_successful():
            raise TRIGGERFAIL(
                'Trigger was "all_successful" but some of the upstream tasks failed.'
            )
    return True


def all_failed(upstream_states: Sequence[State]) -> bool:
    """Run when every upstream failed (clean-up after a total failure)."""
    if not all(s.is_failed() for s in upstream_states):
        raise TRIGGERFAIL('Trigger was "all_failed" but some of the upstream tasks succeeded.')
    return True


def any_successful(upstream_states: Sequence[State]) -> bool:
    """Run when at least one upstream succeeded (or there are none)."""
    if upstream_states and not any(s.is_successful() for s in upstream_states):
        raise TRIGGERFAIL('Trigger was "any_successful" but none of the upstream tasks succeeded.')
    return True


def any_failed(upstream_states: Sequence[State]) -> bool:
    """Run when at least one upstream failed (or there are none)."""
    if upstream_states and not any(s.is_failed() for s in upstream_states):
        raise TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def all_finished(upstream_states: Sequence[State]) -> bool:
    """Run once every upstream finished, however it ended (clean-up tasks)."""
    if not all(s.is_finished() for s in upstream_states):
        raise TRIGGERFAIL('Trigger was "all_finished" but some of the upstream tasks were not finished.')
    return True


always_run = all_finished


def manual_only(upstream_states: Sequence[State]) -> bool:
    """Never run on its own: the task pauses until resumed with a ``Resume`` or ``Paused`` state."""
    if context.get("resume"):
        return True
    raise PAUSE('Trigger function is "manual_only"')


def not_all_skipped(upstream_states: Sequence[State]) -> bool:
    """Run when every upstream succeeded and at least one did not skip."""
    if all(s.is_skipped() for s in upstream_states) and upstream_states:
        from ._signals import SKIP

        raise SKIP("All upstream tasks were skipped.")
    return all_successful(upstream_states)


def _check_bounds(name: str, at_least: float | None, at_most: float | None) -> None:
    for label, value in (("at_least", at_least), ("at_most", at_most)):
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"{name}: {label} must be a count or a fraction >= 0, got {value!r}")


def _count_trigger(name: str, wanted: Callable[[State], bool],
                   at_least: float | None, at_most: float | None) -> Trigger:
    _check_bounds(name, at_least, at_most)

    def trigger(upstream_states: Sequence[State]) -> bool:
        total = len(upstream_states)
        count = sum(1 for s in upstream_states if wanted(s))
        low = at_least * total if at_least is not None and 0 < at_least < 1 else at_least
        high = at_most * total if at_most is not None and 0 < at_most < 1 else at_most
        if low is not None and count < low:
            raise TRIGGERFAIL(f'Trigger was "{name}" with at_least={at_least} but only {count} of {total} upstream tasks matched.')
        if high is not None and count > high:
            raise TRIGGERFAIL(f'Trigger was "{name}" with at_most={at_most} but {count} of {total} upstream tasks matched.')
        return True

    trigger.__name__ = name
    return trigger


def some_successful(at_least: float | None = None, at_most: float | None = None) -> Trigger:
    """Run when the number (or fraction, if < 1) of successful upstreams is within bounds."""
    return _count_trigger("some_successful", State.is_successful, at_least, at_most)


def some_failed(at_least: float | None = None, at_most: float | None = None) -> Trigger:
    """Run when the number (or fraction, if < 1) of failed upstreams is within bounds."""
    return _count_trigger("some_failed", State.is_failed, at_least, at_most)
