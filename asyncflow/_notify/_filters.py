"""Which transitions a notifier reports: ``only_states`` and ``ignore_states``.

Both take State classes and match subclasses (``only_states=[Failed]`` also reports
``TimedOut`` and ``TriggerFailed``). A notifier checks its filter before it looks up any
secret, so a transition it ignores never fails for a missing secret.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._core._states import State

StateClasses = type[State] | Iterable[type[State]] | None


def _state_classes(value: StateClasses, option: str, owner: str) -> tuple[type[State], ...]:
    if value is None:
        return ()
    items: list[object] = [value] if isinstance(value, (type, State)) else list(value)
    classes: list[type[State]] = []
    for item in items:
        if isinstance(item, State):
            raise TypeError(
                f"{owner}: {option} takes State classes, got the instance {item!r}; "
                f"write {option}=[{type(item).__name__}]"
            )
        if not (isinstance(item, type) and issubclass(item, State)):
            raise TypeError(
                f"{owner}: {option} takes State classes such as Failed or Retrying "
                f"(from asyncflow.states), got {item!r}"
            )
        classes.append(item)
    return tuple(classes)


class StateFilter:
    """Accepts a state when it is one of ``only`` (if given) and none of ``ignore``."""

    __slots__ = ("ignore", "only")

    def __init__(
        self,
        only_states: StateClasses = None,
        ignore_states: StateClasses = None,
        *,
        owner: str = "notifier",
    ) -> None:
        self.only = _state_classes(only_states, "only_states", owner)
        self.ignore = _state_classes(ignore_states, "ignore_states", owner)

    def accepts(self, state: State) -> bool:
        """Whether a transition into ``state`` should be reported."""
        if self.only and not isinstance(state, self.only):
            return False
        return not (self.ignore and isinstance(state, self.ignore))

    def describe(self) -> str:
        """The filter as keyword arguments, for a notifier's repr."""
        parts = []
        if self.only:
            parts.append(f"only_states=[{', '.join(c.__name__ for c in self.only)}]")
        if self.ignore:
            parts.append(f"ignore_states=[{', '.join(c.__name__ for c in self.ignore)}]")
        return ", ".join(parts)
