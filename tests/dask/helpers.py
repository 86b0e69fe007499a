"""Helpers for the Dask tests.

``dd`` is :mod:`distributed` typed as ``Any``: most of its API is unannotated, which
``mypy --strict`` would reject at every call.
"""

from __future__ import annotations

import os
from typing import Any

import distributed

from asyncflow.states import Mapped, State

dd: Any = distributed


def child_state(state: State, t: Any) -> State:
    """The state of task ``t`` in a finished flow run's state."""
    found: State = state.result[t]
    return found


def children(state: State, t: Any) -> list[State]:
    """The states of the mapped children of task ``t``."""
    mapped = child_state(state, t)
    assert isinstance(mapped, Mapped), mapped
    return list(mapped.map_states)


def worker_address() -> str:
    """The address of the Dask worker running the caller."""
    return str(dd.get_worker().address)


async def worker_pids(address: str) -> dict[str, int]:
    """Each worker's address and process id."""
    async with dd.Client(address, asynchronous=True) as client:
        pids: dict[str, int] = await client.run(os.getpid)
        return pids
