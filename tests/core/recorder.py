"""A state handler that records transitions, for asserting exact sequences."""

from __future__ import annotations

from typing import Any

from asyncflow.states import State


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.states: list[tuple[State, State]] = []

    def __call__(self, obj: Any, old: State, new: State) -> None:
        self.events.append((obj.name, type(old).__name__, type(new).__name__))
        self.states.append((old, new))

    def for_(self, name: str) -> list[tuple[str, str]]:
        return [(old, new) for n, old, new in self.events if n == name]
