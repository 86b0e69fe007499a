"""SVG pictures: valid XML, one box per task, arrows with data keys, state colours."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from asyncflow import Flow, task
from asyncflow.states import Failed, Mapped, Success
from asyncflow.visualization import render

from .flows import etl_flow

NS = {"svg": "http://www.w3.org/2000/svg"}

pytestmark = pytest.mark.anyio


def _nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return {g.attrib["data-slug"]: g for g in root.iterfind(".//svg:g[@class='node']", NS)}


def _texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iterfind(".//svg:text", NS)]


def test_every_task_is_a_box_labelled_with_its_name() -> None:
    flow = etl_flow()

    nodes = _nodes(render(flow))

    assert set(nodes) == {t.slug for t in flow.tasks}
    assert _texts(nodes["numbers-1"]) == ["numbers"]
    assert _texts(nodes["n"]) == ["n"]


def test_tasks_sharing_a_name_are_told_apart_by_slug() -> None:
    nodes = _nodes(render(etl_flow()))

    assert _texts(nodes["add-1"]) == ["add-1"]
    assert _texts(nodes["add-2"]) == ["add-2"]


def test_every_edge_is_an_arrow_and_data_edges_carry_their_key() -> None:
    flow = etl_flow()
    root = ET.fromstring(render(flow))

    arrows = root.findall(".//svg:path[@class='edge']", NS)
    labels = sorted("".join(t.itertext()) for t in root.iterfind(".//svg:text[@class='edge-label']", NS))

    pairs = {(e.upstream_task, e.downstream_task) for e in flow.edges}
    assert len(arrows) == len(pairs)
    assert all(a.attrib["marker-end"] == "url(#arrow)" for a in arrows)
    # add-1 feeds join only through upstream_tasks=[...]: a dashed, unlabelled arrow
    assert sum("stroke-dasharray" in a.attrib for a in arrows) == 1
    assert labels == sorted(["x", "x", "y", "n", "x (mapped)", "a", "b"])


def test_mapped_tasks_are_drawn_as_a_stack_of_boxes() -> None:
    nodes = _nodes(render(etl_flow()))

    mapped = nodes["fragile-1"]
    plain = nodes["numbers-1"]
    assert mapped.attrib.get("data-mapped") == "true"
    assert len(mapped.findall("svg:rect", NS)) == 3
    assert len(plain.findall("svg:rect", NS)) == 1


async def test_a_run_state_colours_each_task_and_counts_mapped_children() -> None:
    flow = etl_flow()
    state = await flow.run()

    nodes = _nodes(render(flow, flow_state=state))

    boxes = {slug: g.find("svg:rect[@class='box']", NS) for slug, g in nodes.items()}
    assert boxes["numbers-1"].attrib["fill"] == Success.color  # type: ignore[union-attr]
    assert boxes["fragile-1"].attrib["fill"] == Mapped.color  # type: ignore[union-attr]
    assert nodes["fragile-1"].attrib["data-children"] == "3"
    assert "3 children: 1 Failed, 2 Success" in _texts(nodes["fragile-1"])
    bar = nodes["fragile-1"].findall("svg:rect[@class='child-states']", NS)
    assert sorted(r.attrib["fill"] for r in bar) == sorted([Failed.color, Success.color])
    assert nodes["join-1"].attrib["data-state"] == "TriggerFailed"


def test_without_a_state_nodes_are_not_coloured_by_state() -> None:
    nodes = _nodes(render(etl_flow()))

    assert all("data-state" not in g.attrib for g in nodes.values())
    assert all("data-children" not in g.attrib for g in nodes.values())


def test_names_with_markup_characters_are_escaped() -> None:
    @task(name='<load & "save">')
    def odd() -> None:
        return None

    with Flow("a <b> & 'c'") as flow:
        odd()

    root = ET.fromstring(render(flow))

    assert "".join(root.find("svg:title", NS).itertext()) == "a <b> & 'c'"  # type: ignore[union-attr]
    assert _texts(next(iter(_nodes(render(flow)).values()))) == ['<load & "save">']


def test_an_empty_flow_is_a_valid_empty_picture() -> None:
    nodes = _nodes(render(Flow("empty")))

    assert nodes == {}


def test_a_thousand_task_flow_renders_to_valid_svg() -> None:
    from .flows import chain_flow

    flow = chain_flow(1000)

    nodes = _nodes(render(flow))

    assert len(nodes) == 1000
