"""What checking a submitted body costs: ``parse_parameters`` against plain ``json.loads``.

``parse_parameters`` cuts strings out of the body and deletes innermost bracket pairs,
one level per pass, to bound its nesting before parsing it; then it parses the body with
a hook on floats that notes a NaN or an infinity. Workloads, each a body of about
1 MiB (aiohttp's default ``client_max_size``):

* an ordinary body: 30,000 small objects in one parameter;
* a 1 MiB string full of brackets (they do not count, but must be cut out);
* the two attacks the check is for: a million unclosed ``[``, and 64-deep arrays repeated
  to fill the body (the most passes of the most data: the check's worst case). Only the
  nesting check is timed for those, against ``json.loads`` of the ordinary body.

Run from the repository root: ``python -m benchmarks bench_aiohttp_body``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from asyncflow._aiohttp._body import MAX_DEPTH, check_nesting, parse_parameters
from asyncflow._core._exceptions import ParameterError

from ._timing import row

REPEATS = 5
MIB = 1024 * 1024


def _best(fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _check(body: bytes) -> None:
    with contextlib.suppress(ParameterError):
        check_nesting(body)


async def run_benchmarks() -> list[dict[str, Any]]:
    ordinary = json.dumps({"rows": [{"id": i, "v": 1.5, "s": "x"} for i in range(30_000)]})
    bodies = {
        "ordinary, 30,000 objects": ordinary.encode(),
        "a 1 MiB string of brackets": json.dumps({"t": "[]" * (MIB // 2)}).encode(),
    }
    rows: list[dict[str, Any]] = []
    for name, body in bodies.items():
        ours = _best(lambda body=body: parse_parameters(body))  # type: ignore[misc]
        base = _best(lambda body=body: json.loads(body))  # type: ignore[misc]
        rows.append(dict(row(f"submit body: {name} ({len(body)} B)", ours, base,
                             "", "baseline: json.loads alone")))
    base = _best(lambda: json.loads(bodies["ordinary, 30,000 objects"]))
    block = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    attacks = {
        "a million unclosed [": b"[" * MIB,
        f"{MAX_DEPTH}-deep arrays filling 1 MiB": block * (MIB // len(block)),
    }
    for name, body in attacks.items():
        ours = _best(lambda body=body: _check(body))  # type: ignore[misc]
        rows.append(dict(row(f"nesting check: {name}", ours, base, "",
                             "baseline: json.loads of the ordinary body")))
    return rows


if __name__ == "__main__":
    import asyncio

    from .__main__ import print_table

    print_table(asyncio.run(run_benchmarks()))
