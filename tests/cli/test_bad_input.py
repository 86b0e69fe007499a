"""Bad input: one clear line on stderr, exit code 2, a traceback only with --debug."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import NUMBERS_FLOW, run_cli, write

TWO_FLOWS = """\
    from asyncflow import Flow, task

    @task
    def one():
        return 1

    with Flow("first") as first_flow:
        one()

    with Flow("second") as second_flow:
        one()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "counting.py", NUMBERS_FLOW)
    write(tmp_path / "two.py", TWO_FLOWS)
    write(tmp_path / "empty.py", "x = 1\n")
    write(tmp_path / "broken.py", "import json\nvalue = 1 / 0\n")
    write(tmp_path / "syntax.py", "def f(:\n")
    write(tmp_path / "required.py", """\
        from asyncflow import Flow, Parameter, task

        @task
        def use(x):
            return x

        with Flow("needs") as flow:
            use(Parameter("url"))
    """)
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "bad.json").write_text("{not json")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.py"], "file 'missing.py' does not exist"),
        (["run", "two.py"],
         "two.py defines several flows: first_flow ('first'), second_flow ('second'); "
         "name one, e.g. two.py:first_flow"),
        (["run", "two.py:third"], "two.py has no variable 'third'; its flows are: first_flow, second_flow"),
        (["run", "two.py:one"], "two.py:one is a FunctionTask, not a Flow; its flows are: first_flow, second_flow"),
        (["run", "empty.py"], "empty.py defines no Flow; build one at module level"),
        (["run", "broken.py"], "importing 'broken.py' failed: ZeroDivisionError: division by zero (at broken.py:2)"),
        (["run", "syntax.py"], "importing 'syntax.py' failed: SyntaxError"),
        (["run", "no_such_module:flow"], "no module named 'no_such_module'"),
        (["run", "counting.py", "-p", "n"], "-p 'n' is not NAME=VALUE"),
        (["run", "counting.py", "-p", "=3"], "-p '=3' is not NAME=VALUE"),
        (["run", "counting.py", "-p", "size=3"],
         "flow 'numbers' has no parameter 'size'; its parameters are: fail_on, n, out"),
        (["run", "required.py"], "flow 'needs' needs parameter 'url'; pass it with -p url=VALUE"),
        (["run", "counting.py", "--params-file", "nope.json"], "parameters file 'nope.json' does not exist"),
        (["run", "counting.py", "--params-file", "list.json"], "holds a list; it must be a JSON object"),
        (["run", "counting.py", "--params-file", "bad.json"], "parameters file 'bad.json' is not valid JSON"),
        (["visualize", "counting.py", "-o", "flow.txt"], "cannot tell the format of 'flow.txt'"),
        (["visualize", "counting.py", "--format", "png"], "PNG is written to a file; pass -o flow.png"),
        (["visualize", "counting.py", "-p", "n=3"], "parameters are used only with --state-from-run"),
        (["result", "read", "x", "--result", "s3"], "--result s3 needs --bucket NAME"),
        (["result", "read", "x", "--bucket", "b"], "--bucket is for --result s3 or gcs, not local"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(project: Path, args: list[str], message: str) -> None:
    done = run_cli(*args, cwd=project)

    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("asyncflow: error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [["run", "--max-concurrency", "0", "counting.py"], ["run", "--timeout", "soon", "counting.py"],
     ["run"], ["launch", "counting.py"], ["result"]],
)
def test_argument_errors_are_usage_errors(project: Path, args: list[str]) -> None:
    done = run_cli(*args, cwd=project)

    assert done.returncode == 2
    assert "error:" in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr


def test_debug_adds_the_traceback(project: Path) -> None:
    done = run_cli("run", "broken.py", "--debug", cwd=project)

    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert "ZeroDivisionError" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("asyncflow: error: importing 'broken.py'")


def test_no_command_prints_help_and_exits_2(project: Path) -> None:
    done = run_cli(cwd=project)

    assert done.returncode == 2
    assert "usage: asyncflow" in done.stderr
