"""Running the ``asyncflow`` command in a subprocess, and the flow files it runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

CLI = [sys.executable, "-m", "asyncflow.cli"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def run_cli(*args: str | Path, cwd: Path, timeout: float = 45) -> subprocess.CompletedProcess[str]:
    """``asyncflow ARGS...`` run in ``cwd`` with stdout and stderr captured (not a terminal)."""
    return subprocess.run(
        [*CLI, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        check=False,
    )


#: A parameter, a mapped task whose child 3 fails once and is retried, and a total.
NUMBERS_FLOW = """\
    import json
    from pathlib import Path

    from asyncflow import Flow, Parameter, task, unmapped

    attempts = {}

    @task
    def numbers(n):
        return list(range(n))

    @task(max_retries=1, retry_delay=0)
    def square(x, fail_on):
        attempts[x] = attempts.get(x, 0) + 1
        if x == 3 and attempts[x] == 1:
            raise RuntimeError("flaky once")
        if x in fail_on:
            raise ValueError(f"{x} is not allowed")
        return x * x

    @task
    def total(values, out):
        if out:
            Path(out).write_text(json.dumps(sum(values)))
        return sum(values)

    with Flow("numbers") as flow:
        n = Parameter("n", default=5)
        fail_on = Parameter("fail_on", default=[])
        out = Parameter("out", default="")
        total(square.map(numbers(n), fail_on=unmapped(fail_on)), out=out)
"""
