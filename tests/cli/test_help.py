"""--version, --help with examples for every command, the entry point and the public API."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import asyncflow.cli
from asyncflow import __version__

from .helpers import run_cli


def test_version_names_the_distribution(tmp_path: Path) -> None:
    done = run_cli("--version", cwd=tmp_path)

    assert done.returncode == 0
    assert done.stdout.strip() == f"asyncflow-engine {__version__}"


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ([], "asyncflow run etl.py"),
        (["run"], "asyncflow run etl.py:flow -p url=https://example.com"),
        (["visualize"], "asyncflow visualize etl.py -o etl.svg"),
        (["result"], "asyncflow result read"),
        (["result", "read"], "asyncflow result read '{\"rows\": 3}' --result json"),
    ],
)
def test_every_command_has_help_with_examples(
    tmp_path: Path, command: list[str], example: str
) -> None:
    done = run_cli(*command, "--help", cwd=tmp_path)

    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: asyncflow{''.join(' ' + c for c in command)}")
    assert "examples:" in done.stdout
    assert example in done.stdout


def test_the_console_script_is_main() -> None:
    (script,) = entry_points(group="console_scripts", name="asyncflow")

    assert script.value == "asyncflow.cli:main"
    assert script.load() is asyncflow.cli.main


def test_main_returns_the_exit_code_instead_of_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert asyncflow.cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"asyncflow-engine {__version__}"


def test_importing_asyncflow_and_its_cli_does_not_import_rich() -> None:
    code = "import sys, asyncflow, asyncflow.cli, asyncflow.visualization; print('rich' in sys.modules)"

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)

    assert done.stdout.strip() == "False"


def test_the_cli_package_exports_exactly_its_all() -> None:
    public = {n for n in vars(asyncflow.cli) if not n.startswith("_")}
    public.discard("annotations")

    assert public == set(asyncflow.cli.__all__)
