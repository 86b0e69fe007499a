"""mypy, run on a small typed user flow, sees the types a user expects.

One mypy run (its cache in tmp_path) over one file, with the asyncflow plugin on: the
revealed types (``# T:`` comments) come from the annotations alone, the errors (``# E:``)
on the arguments of task calls from the plugin, the others from the annotations. A
comment states what mypy must say about its line; no other line may have an error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .user_code import TASKS, expectations

ROOT = Path(__file__).resolve().parents[2]

USER_FLOW = TASKS + '''\
reveal_type(add)  # T: asyncflow._core._task.FunctionTask[[x: int, y: int =], int]
reveal_type(shout)  # T: asyncflow._core._task.FunctionTask[[text: str], str]
reveal_type(add.fn)  # T: def (x: int, y: int =) -> Any

task(max_retry=2)  # E: [call-overload] Unexpected keyword argument "max_retry"
task(timeout="5")  # E: [call-overload] No overload variant of "task" matches argument type "str"

with Flow("typed") as flow:
    start = Parameter("start", default=1)
    first = add(start)
    reveal_type(first)  # T: asyncflow._core._task.Task[int]
    second = add(first, y=2, upstream_tasks=[start])
    each = add.map([1, 2, 3], y=unmapped(10))
    reveal_type(each)  # T: asyncflow._core._task.Task[list[int]]
    summed = total([first, second, 3])
    words = shout("done")

    shout(first)  # E: [arg-type] incompatible type "Task[int]"; expected "str | Task[str] |
    add("one")  # E: [arg-type] incompatible type "str"; expected "int | Task[int] |
    add(1, z=3)  # E: [call-arg] Unexpected keyword argument "z"
    add(1, 2, 3)  # E: [call-arg] Too many positional arguments
    add()  # E: [call-arg] Missing positional argument "x"
    add(1, upstream_tasks=5)  # E: [arg-type] "upstream_tasks" to "__call__" of "Task" has incompatible type "int"
    add.map([1], task_args=["tags"])  # E: [arg-type] "task_args" to "map" of "Task"
    add.fn("one")  # E: [arg-type] incompatible type "str"; expected "int"
    add.fn(1, z=3)  # E: [call-arg] Unexpected keyword argument "z"

state = asyncio.run(flow.run(history=False))
reveal_type(state)  # T: asyncflow._core._state.State
reveal_type(state.result_of(summed))  # T: int
reveal_type(state.result_of(words))  # T: str
reveal_type(state.result_of(each))  # T: list[int]
label: str = state.result_of(summed)  # E: [assignment] expression has type "int", variable has type "str"
state.result_of(3)  # E: [arg-type] to "result_of" of "State" has incompatible type "int"
'''


def test_mypy_reveals_the_types_of_tasks_calls_and_results(tmp_path: Path) -> None:
    source = tmp_path / "user_flow.py"
    source.write_text(USER_FLOW)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nplugins = asyncflow.mypy_plugin\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYPYPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config),
         "--cache-dir", str(tmp_path / "cache"), "--hide-error-context",
         "--no-pretty", "--show-error-codes", str(source)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    lines = done.stdout.splitlines()
    revealed = []
    errors = []
    for line in lines:
        match = re.match(r".*user_flow\.py:(\d+): (note|error): (.*)$", line)
        if match is None:
            continue
        number, kind, text = int(match[1]), match[2], match[3]
        if kind == "note" and text.startswith("Revealed type is "):
            revealed.append((number, text.removeprefix("Revealed type is ").strip('"')))
        elif kind == "error":
            errors.append((number, text))
    assert revealed == expectations(USER_FLOW, "T"), done.stdout + done.stderr
    expected_errors = expectations(USER_FLOW, "E")
    for number, comment in expected_errors:
        code, _, piece = comment.partition(" ")
        assert any(n == number and piece in text and text.endswith(f"  {code}")
                   for n, text in errors), (number, comment, done.stdout)
    assert {n for n, _ in errors} == {n for n, _ in expected_errors}, done.stdout
