"""Run every benchmark and print one table: ``python -m benchmarks [names...]``."""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any

SUITES = ["bench_engine", "bench_results", "bench_notifications", "bench_storage",
          "bench_history", "bench_logs", "bench_restart", "bench_dask"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ["workload", "asyncflow (s)", "baseline (s)", "ratio", "target", "notes"]
    keys = ["workload", "asyncflow_s", "baseline_s", "ratio", "target", "notes"]
    body = [[_fmt(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) + " |")


def main(argv: list[str]) -> None:
    names = argv or SUITES
    rows: list[dict[str, Any]] = []
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ImportError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        rows.extend(asyncio.run(module.run_benchmarks()))
        if hasattr(module, "memory_rows"):
            rows.extend(module.memory_rows())
    print_table(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
