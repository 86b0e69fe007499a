"""The in-process store of cached task states (``cache_for``), shared by every run."""

from __future__ import annotations

import datetime
from collections.abc import Hashable

from ._states import Cached

_MAX_PER_KEY = 16
_store: dict[Hashable, list[Cached]] = {}


def candidates(key: Hashable) -> list[Cached]:
    """Cached states for ``key``, newest first, expired ones dropped."""
    states = _store.get(key)
    if not states:
        return []
    now = datetime.datetime.now(datetime.timezone.utc)
    live = [s for s in states if s.cached_result_expiration is None
            or s.cached_result_expiration > now]
    if len(live) != len(states):
        _store[key] = live
    return list(reversed(live))


def store(key: Hashable, state: Cached) -> None:
    states = _store.setdefault(key, [])
    states.append(state)
    del states[:-_MAX_PER_KEY]


def clear() -> None:
    """Forget every cached state (for tests, or to free memory)."""
    _store.clear()
