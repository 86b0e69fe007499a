"""DOT and Mermaid text."""

from __future__ import annotations

import re

import pytest

from asyncflow import Flow, task
from asyncflow.states import Success
from asyncflow.visualization import render

from .flows import etl_flow

pytestmark = pytest.mark.anyio


def test_dot_declares_every_task_and_edge() -> None:
    flow = etl_flow()

    dot = render(flow, format="dot")

    assert dot.startswith('digraph "etl" {')
    assert dot.rstrip().endswith("}")
    assert len(re.findall(r"^  n\d+ \[label=", dot, re.M)) == len(flow.tasks)
    edges = re.findall(r"^  (n\d+) -> (n\d+)(?: \[(.*)\])?;$", dot, re.M)
    assert len(edges) == 8
    attrs = [a for _, _, a in edges]
    assert 'label="x (mapped)", penwidth=2' in attrs
    assert "style=dashed" in attrs  # the state-only edge
    assert 'label="numbers"' in dot
    assert "shape=ellipse" in dot  # the parameter
    assert "peripheries=3" in dot  # the mapped task


async def test_dot_with_a_state_fills_nodes_with_state_colours() -> None:
    flow = etl_flow()
    state = await flow.run()

    dot = render(flow, format="dot", flow_state=state)

    assert f'label="numbers\\nSuccess", tooltip="numbers-1", fillcolor="{Success.color}"' in dot
    assert "3 children: 1 Failed, 2 Success" in dot


def test_dot_escapes_quotes_and_backslashes() -> None:
    @task(name='say "hi" \\ bye')
    def odd() -> None:
        return None

    with Flow("f") as flow:
        odd()

    assert 'label="say \\"hi\\" \\\\ bye"' in render(flow, format="dot")


def test_mermaid_is_a_flowchart_with_shapes_and_labelled_links() -> None:
    flow = etl_flow()

    text = render(flow, format="mermaid")

    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert any(re.fullmatch(r'    n\d+\(\["n"\]\)', line) for line in lines)  # parameter
    assert any(re.fullmatch(r'    n\d+\[\["fragile"\]\]', line) for line in lines)  # mapped
    assert any(re.fullmatch(r'    n\d+ ==>\|"x \(mapped\)"\| n\d+', line) for line in lines)
    assert any(re.fullmatch(r"    n\d+ -\.-> n\d+", line) for line in lines)  # state-only
    assert sum(" --> " in line or "-->|" in line for line in lines) == 6


async def test_mermaid_with_a_state_adds_one_class_per_state() -> None:
    flow = etl_flow()
    state = await flow.run()

    text = render(flow, format="mmd", flow_state=state)

    assert f"classDef Success fill:{Success.color},stroke:#4a5668" in text
    assert re.search(r"^    class (n\d+,)*n\d+ TriggerFailed$", text, re.M)


def test_mermaid_escapes_what_would_end_a_label() -> None:
    @task(name='a "quoted" <b> | c #1')
    def odd() -> None:
        return None

    with Flow("f") as flow:
        odd()

    text = render(flow, format="mermaid")

    assert '["a #34;quoted#34; #60;b#62; #124; c #35;1"]' in text
