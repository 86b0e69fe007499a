"""Graphviz DOT output (also the input of the PNG renderer)."""

from __future__ import annotations

from ._graph import Graph, Node, state_summary

_STROKE = "#4a5668"


def render_dot(graph: Graph) -> str:
    """The graph as a DOT ``digraph``, ready for ``dot -Tsvg`` or ``dot -Tpng``."""
    lines = [
        f"digraph {_quote(graph.name)} {{",
        "  rankdir=TB;",
        f'  graph [fontname="Helvetica", label={_quote(graph.name)}, labelloc=t];',
        f'  node [shape=box, style="rounded,filled", fillcolor="#f4f6f9", color="{_STROKE}", '
        'fontname="Helvetica", fontsize=12];',
        f'  edge [color="{_STROKE}", fontname="Helvetica", fontsize=10];',
    ]
    for node in graph.nodes:
        lines.append(f"  {node.id} [{', '.join(_node_attributes(node))}];")
    for arrow in graph.arrows:
        attrs: list[str] = []
        if arrow.label:
            attrs.append(f"label={_quote(arrow.label)}")
        if not arrow.data:
            attrs.append("style=dashed")
        if arrow.mapped:
            attrs.append("penwidth=2")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        source, target = graph.nodes[arrow.source].id, graph.nodes[arrow.target].id
        lines.append(f"  {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_attributes(node: Node) -> list[str]:
    label = node.label
    summary = state_summary(node)
    if summary:
        label += "\n" + summary
    attrs = [f"label={_quote(label)}", f"tooltip={_quote(node.slug)}"]
    if node.is_parameter:
        attrs.append("shape=ellipse")
        if node.fill is None:
            attrs.append('fillcolor="#e8efff"')
    if node.is_mapped:
        attrs.append("peripheries=3")  # graphviz's closest to a stack of boxes
    if node.fill is not None:
        attrs.append(f'fillcolor="{node.fill}"')
    return attrs


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
