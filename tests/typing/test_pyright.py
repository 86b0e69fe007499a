"""pyright, run on a small typed user flow, sees the types a user expects.

pyright has no plugins, so it checks what the annotations alone say: the types of tasks,
of task calls and of ``state.result_of``, the call options of a task call, the decorated
function itself (``add.fn``). The arguments of a task call are not checked (see
docs/typing.md); the lines marked "not checked" below must stay free of errors, so that
the docs change if pyright ever starts to check them. One pyright run over one file, in
strict mode, with its output as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .user_code import TASKS, expectations

ROOT = Path(__file__).resolve().parents[2]

USER_FLOW = TASKS + '''\
reveal_type(add)  # T: FunctionTask[(x: int, y: int = 1), int]
reveal_type(shout)  # T: FunctionTask[(text: str), str]
reveal_type(add.fn)  # T: (x: int, y: int = 1) -> Any

task(max_retry=2)  # E: [reportCallIssue] No overloads for "task" match the provided arguments
task(timeout="5")  # E: [reportArgumentType] parameter "timeout"

with Flow("typed") as flow:
    start = Parameter("start", default=1)
    first = add(start)
    reveal_type(first)  # T: Task[int]
    second = add(first, y=2, upstream_tasks=[start])
    each = add.map([1, 2, 3], y=unmapped(10))
    reveal_type(each)  # T: Task[list[int]]
    summed = total([first, second, 3])
    words = shout("done")
    reveal_type(words)  # T: Task[str]

    add(1, upstream_tasks=5)  # E: [reportArgumentType] "upstream_tasks"
    add.map([1], task_args=["tags"])  # E: [reportArgumentType] "task_args"
    add.fn("one")  # E: [reportArgumentType] "Literal['one']" cannot be assigned to parameter "x"
    add.fn(1, z=3)  # E: [reportCallIssue] No parameter named "z"
    shout(first)  # not checked: a Task[int] for a str
    add(1, z=3)  # not checked: an unknown keyword

state = asyncio.run(flow.run(history=False))
reveal_type(state)  # T: State
reveal_type(state.result_of(summed))  # T: int
reveal_type(state.result_of(words))  # T: str
reveal_type(state.result_of(each))  # T: list[int]
label: str = state.result_of(summed)  # E: [reportAssignmentType] "int" is not assignable to "str"
state.result_of(3)  # E: [reportArgumentType] "Literal[3]" cannot be assigned to parameter "task"
'''


def test_pyright_reveals_the_types_of_tasks_calls_and_results(tmp_path: Path) -> None:
    source = tmp_path / "user_flow.py"
    source.write_text(USER_FLOW)
    # extraPaths come before site-packages: pyright reads this checkout's asyncflow.
    config = {"typeCheckingMode": "strict", "extraPaths": [str(ROOT)]}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable,
         "--project", str(tmp_path), str(source)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.stdout.startswith("{"), done.stdout + done.stderr
    report = json.loads(done.stdout)
    revealed = []
    errors = []
    for diagnostic in report["generalDiagnostics"]:
        line = diagnostic["range"]["start"]["line"] + 1
        message = diagnostic["message"]
        if diagnostic["severity"] == "information" and message.startswith("Type of "):
            revealed.append((line, message.partition('" is "')[2].removesuffix('"')))
        elif diagnostic["severity"] == "error":
            errors.append((line, diagnostic.get("rule", ""), message))
    assert revealed == expectations(USER_FLOW, "T"), done.stdout
    expected_errors = expectations(USER_FLOW, "E")
    for number, comment in expected_errors:
        rule, _, piece = comment.partition(" ")
        assert any(n == number and f"[{r}]" == rule and piece in text
                   for n, r, text in errors), (number, comment, errors)
    assert {n for n, _, _ in errors} == {n for n, _ in expected_errors}, errors
