"""The slots an instance has, gathered from its class and all its bases."""

from __future__ import annotations

_slot_cache: dict[type, tuple[str, ...]] = {}


def slots_of(cls: type) -> tuple[str, ...]:
    """Every slot an instance of ``cls`` has, from all its bases, in definition order."""
    slots = _slot_cache.get(cls)
    if slots is None:
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__slots__", ()):
                if name not in ("__dict__", "__weakref__") and name not in names:
                    names.append(name)
        slots = _slot_cache[cls] = tuple(names)
    return slots
