"""Mermaid ``flowchart`` output, for Markdown pages that render Mermaid (GitHub does)."""

from __future__ import annotations

from ._graph import Graph, Node, state_summary


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid ``flowchart TD`` block (without the Markdown fence)."""
    lines = ["flowchart TD"]
    for node in graph.nodes:
        lines.append(f"    {node.id}{_shape(node)}")
    for arrow in graph.arrows:
        source, target = graph.nodes[arrow.source].id, graph.nodes[arrow.target].id
        link = "-->" if arrow.data else "-.->"
        if arrow.mapped:
            link = "==>"
        label = f'|"{_text(arrow.label)}"|' if arrow.label else ""
        lines.append(f"    {source} {link}{label} {target}")
    colors: dict[str, str] = {}
    for node in graph.nodes:
        if node.state is not None and node.fill is not None:
            colors.setdefault(node.state.name, node.fill)
    for name, fill in colors.items():
        lines.append(f"    classDef {name} fill:{fill},stroke:#4a5668")
    for name in colors:
        members = ",".join(n.id for n in graph.nodes if n.state is not None
                           and n.state.name == name)
        lines.append(f"    class {members} {name}")
    return "\n".join(lines) + "\n"


def _shape(node: Node) -> str:
    label = _text(node.label)
    summary = state_summary(node)
    if summary:
        label += "<br/>" + _text(summary)
    if node.is_parameter:
        return f'(["{label}"])'
    if node.is_mapped:
        return f'[["{label}"]]'  # Mermaid's "subroutine" box: a box with double sides
    return f'["{label}"]'


def _text(text: str) -> str:
    """Escape what would end a quoted Mermaid label or be read as markup."""
    return (
        text.replace("#", "#35;")
        .replace("&", "#38;")
        .replace('"', "#34;")
        .replace("<", "#60;")
        .replace(">", "#62;")
        .replace("|", "#124;")
    )
