"""render(): choosing the format, writing files, PNG through Graphviz, flow.visualize."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import asyncflow.visualization
from asyncflow import AsyncflowError, Flow
from asyncflow.visualization import GraphvizNotFoundError, format_for, render

from .flows import etl_flow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_module_exports_exactly_its_all() -> None:
    public = {n for n in vars(asyncflow.visualization) if not n.startswith("_")}
    public.discard("annotations")

    assert public == set(asyncflow.visualization.__all__)


def test_svg_is_the_default() -> None:
    assert render(etl_flow()).startswith("<svg ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("f.svg", "svg"), ("f.dot", "dot"), ("f.gv", "dot"), ("f.mmd", "mermaid"),
     ("F.PNG", "png"), ("f.txt", None), ("f", None)],
)
def test_the_extension_selects_the_format(name: str, expected: str | None) -> None:
    assert format_for(name) == expected


@pytest.mark.parametrize(("ext", "first_line"), [
    (".svg", "<svg xmlns"), (".dot", 'digraph "etl" {'), (".mmd", "flowchart TD"),
])
def test_a_filename_is_written_in_its_extensions_format(
    tmp_path: Path, ext: str, first_line: str
) -> None:
    target = tmp_path / f"flow{ext}"

    text = render(etl_flow(), filename=target)

    assert target.read_text(encoding="utf-8") == text
    assert text.startswith(first_line)


def test_a_format_that_contradicts_the_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"names a png file but format='svg'.*format='png'"):
        render(etl_flow(), filename=tmp_path / "flow.png", format="svg")
    assert not (tmp_path / "flow.png").exists()


def test_an_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown picture format 'jpeg'; choose one of svg, dot"):
        render(etl_flow(), format="jpeg")


def test_png_needs_a_filename() -> None:
    with pytest.raises(ValueError, match=r"pass filename='flow\.png'"):
        render(etl_flow(), format="png")


def test_png_is_drawn_by_graphviz_or_says_how_to_install_it(tmp_path: Path) -> None:
    target = tmp_path / "flow.png"
    if shutil.which("dot") is not None:
        path = render(etl_flow(), filename=target)

        assert path == str(target)
        assert target.read_bytes().startswith(PNG_MAGIC)
    else:
        with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
            render(etl_flow(), filename=target)
        assert not target.exists()


def test_a_missing_graphviz_is_reported_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH where no `dot` exists

    with pytest.raises(GraphvizNotFoundError) as info:
        render(etl_flow(), filename=tmp_path / "flow.png")

    assert isinstance(info.value, AsyncflowError)
    message = str(info.value)
    assert "apt-get install graphviz" in message
    assert "pip install graphviz" in message
    assert ".svg" in message


def test_flow_visualize_draws_through_render(tmp_path: Path) -> None:
    flow = etl_flow()

    svg = flow.visualize()
    dot = flow.visualize(format="dot")

    assert ET.fromstring(svg).tag.endswith("svg")
    assert dot.startswith("digraph")


def test_flow_state_must_be_a_flow_runs_state() -> None:
    from asyncflow.states import Success

    with pytest.raises(TypeError, match="must be the state a flow run returned"):
        render(Flow("f"), flow_state=Success(result=3))
