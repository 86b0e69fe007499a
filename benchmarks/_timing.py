"""Timing helpers: best-of-N wall times, interleaved so machine noise hits both sides."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict


class Row(TypedDict, total=False):
    workload: str
    asyncflow_s: float
    baseline_s: float
    ratio: float
    target: str
    notes: str


async def best_of(
    repeats: int,
    ours: Callable[[], Awaitable[Any]],
    baseline: Callable[[], Awaitable[Any]],
) -> tuple[float, float]:
    """Best wall time of each side over ``repeats`` interleaved rounds."""
    best_ours = best_base = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        await baseline()
        best_base = min(best_base, time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        await ours()
        best_ours = min(best_ours, time.perf_counter() - t0)
    return best_ours, best_base


def row(workload: str, ours: float, base: float, target: str, notes: str = "") -> Row:
    return Row(workload=workload, asyncflow_s=ours, baseline_s=base,
               ratio=ours / base if base else float("nan"), target=target, notes=notes)
