"""`asyncflow visualize`: every format, stdout output and colours from a run."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from asyncflow.states import Failed, Success

from .helpers import NUMBERS_FLOW, run_cli, write

NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "counting.py", NUMBERS_FLOW)
    return tmp_path


@pytest.mark.parametrize(("name", "start"), [
    ("flow.svg", "<svg xmlns"), ("flow.dot", 'digraph "numbers" {'), ("flow.mmd", "flowchart TD"),
])
def test_the_output_extension_picks_the_format(project: Path, name: str, start: str) -> None:
    done = run_cli("visualize", "counting.py:flow", "-o", name, cwd=project)

    assert done.returncode == 0, done.stderr
    assert (project / name).read_text(encoding="utf-8").startswith(start)
    assert done.stderr.strip() == f"asyncflow: wrote {name}"


def test_without_output_the_text_goes_to_stdout(project: Path) -> None:
    done = run_cli("visualize", "counting.py", "--format", "mermaid", cwd=project)

    assert done.returncode == 0
    assert done.stdout.startswith("flowchart TD\n")
    assert '[["square"]]' in done.stdout


def test_png_is_drawn_by_graphviz_or_the_error_says_how_to_get_it(project: Path) -> None:
    done = run_cli("visualize", "counting.py", "-o", "flow.png", cwd=project)

    if shutil.which("dot") is not None:
        assert done.returncode == 0, done.stderr
        assert (project / "flow.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert done.returncode == 1
        assert "apt-get install graphviz" in done.stderr
        assert len(done.stderr.splitlines()) == 1


def test_state_from_run_colours_tasks_by_the_runs_states(project: Path) -> None:
    done = run_cli("visualize", "counting.py", "--state-from-run", "-p", "n=4",
                   "-p", "fail_on=[2]", "-o", "run.svg", cwd=project)

    assert done.returncode == 0, done.stderr
    assert "ran flow 'numbers': Failed" in done.stderr
    root = ET.parse(project / "run.svg").getroot()
    nodes = {g.attrib["data-slug"]: g for g in root.iterfind(".//svg:g[@class='node']", NS)}
    assert nodes["numbers-1"].attrib["data-state"] == "Success"
    assert nodes["square-1"].attrib["data-children"] == "4"
    assert nodes["total-1"].attrib["data-state"] == "TriggerFailed"
    box = nodes["numbers-1"].find("svg:rect[@class='box']", NS)
    assert box is not None and box.attrib["fill"] == Success.color
    bar = {r.attrib["fill"] for r in nodes["square-1"].iterfind("svg:rect[@class='child-states']", NS)}
    assert bar == {Success.color, Failed.color}
