"""SVG output: the layered layout drawn as boxes, curved arrows and labels.

Text width is estimated from character counts (there is no font engine to ask), with
margins generous enough for common sans-serif fonts.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from .._core._states import ALL_STATES
from ._graph import Graph, Node, state_summary
from ._layout import layout

FONT = "Helvetica, Arial, sans-serif"
_CHAR = 7.6  # average advance of a 13px sans-serif character
_SMALL_CHAR = 6.2  # same at 11px
_PAD = 28.0
_MIN_WIDTH = 72.0
_HEIGHT = 34.0
_HEIGHT_WITH_STATE = 50.0
_STACK = 5.0  # offset of each box behind a mapped task
_STROKE = "#4a5668"
_FILL = "#f4f6f9"
_PARAMETER_FILL = "#e8efff"
_STATE_COLORS = {cls.__name__: cls.color for cls in ALL_STATES}


def quoteattr(text: str) -> str:
    """``text`` as a double-quoted XML attribute value."""
    return f'"{escape(text)}"'


def render_svg(graph: Graph) -> str:
    """The whole picture as an SVG document."""
    height = _HEIGHT_WITH_STATE if graph.with_states else _HEIGHT
    box_widths = [_box_width(node) for node in graph.nodes]
    widths = [w + (2 * _STACK if node.is_mapped else 0.0)
              for w, node in zip(box_widths, graph.nodes, strict=True)]
    placed = layout(widths, height, [(a.source, a.target) for a in graph.arrows])

    out: list[str] = []
    w, h = placed.width, placed.height
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="0 0 {w:.0f} {h:.0f}" font-family={quoteattr(FONT)} font-size="13">'
    )
    out.append(f"<title>{escape(graph.name)}</title>")
    out.append(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_STROKE}"/></marker></defs>'
    )
    out.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    out.append('<g class="edges">')
    for arrow, points in zip(graph.arrows, placed.paths, strict=True):
        if graph.nodes[arrow.source].is_mapped:
            x0, y0 = points[0]
            points = [(x0, y0 + 2 * _STACK), *points[1:]]
        dash = "" if arrow.data else ' stroke-dasharray="5,4"'
        out.append(
            f'<path class="edge" d="{_curve(points)}" fill="none" stroke="{_STROKE}" '
            f'stroke-width="1.3"{dash} marker-end="url(#arrow)"/>'
        )
        label = arrow.label
        if label:
            (x1, y1), (x2, y2) = points[-2], points[-1]
            out.append(
                f'<text class="edge-label" x="{(x1 + x2) / 2 + 4:.1f}" '
                f'y="{(y1 + y2) / 2 + 4:.1f}" font-size="11" fill="#2d3748" '
                f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(label)}</text>'
            )
    out.append("</g>")
    out.append('<g class="nodes">')
    for i, node in enumerate(graph.nodes):
        _node(out, node, placed.x[i], placed.y[i], box_widths[i], height)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _box_width(node: Node) -> float:
    width = len(node.label) * _CHAR
    summary = state_summary(node)
    if summary:
        width = max(width, len(summary) * _SMALL_CHAR)
    return max(_MIN_WIDTH, width + _PAD)


def _curve(points: list[tuple[float, float]]) -> str:
    """A smooth vertical S-curve through ``points``."""
    x, y = points[0]
    parts = [f"M{x:.1f},{y:.1f}"]
    for nx, ny in points[1:]:
        mid = (y + ny) / 2
        parts.append(f"C{x:.1f},{mid:.1f} {nx:.1f},{mid:.1f} {nx:.1f},{ny:.1f}")
        x, y = nx, ny
    return " ".join(parts)


def _node(out: list[str], node: Node, cx: float, cy: float, width: float, height: float) -> None:
    if node.is_mapped:
        cx -= _STACK  # the stack extends right and down; keep the whole group centred
    x, y = cx - width / 2, cy - height / 2
    fill = node.fill or (_PARAMETER_FILL if node.is_parameter else _FILL)
    text = _text_color(fill)
    radius = height / 2 if node.is_parameter else 6.0
    state = f" data-state={quoteattr(node.state.name)}" if node.state is not None else ""
    mapped = ' data-mapped="true"' if node.is_mapped else ""
    children = f' data-children="{node.n_children}"' if node.n_children is not None else ""
    out.append(
        f'<g class="node" id="{node.id}" data-slug={quoteattr(node.slug)}{state}{mapped}'
        f"{children}>"
    )
    tooltip = node.slug
    if node.state is not None:
        tooltip += f": {node.state.name}"
        if node.state.message:
            tooltip += f" ({node.state.message})"
    out.append(f"<title>{escape(tooltip)}</title>")
    if node.is_mapped:
        for k in (2, 1):
            out.append(
                f'<rect x="{x + k * _STACK:.1f}" y="{y + k * _STACK:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" rx="{radius:.1f}" fill="{fill}" stroke="{_STROKE}" '
                'stroke-width="1.2"/>'
            )
    out.append(
        f'<rect class="box" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'rx="{radius:.1f}" fill="{fill}" stroke="{_STROKE}" stroke-width="1.4"/>'
    )
    summary = state_summary(node)
    if summary is None:
        out.append(
            f'<text x="{cx:.1f}" y="{cy + 4.5:.1f}" text-anchor="middle" fill="{text}">'
            f"{escape(node.label)}</text>"
        )
    else:
        out.append(
            f'<text x="{cx:.1f}" y="{cy - 3:.1f}" text-anchor="middle" fill="{text}" '
            f'font-weight="bold">{escape(node.label)}</text>'
        )
        out.append(
            f'<text x="{cx:.1f}" y="{cy + 13:.1f}" text-anchor="middle" fill="{text}" '
            f'font-size="11">{escape(summary)}</text>'
        )
    if node.children:
        _children_bar(out, node, x, y + height - 7, width)
    out.append("</g>")


def _children_bar(out: list[str], node: Node, x: float, y: float, width: float) -> None:
    """A thin bar under a mapped task's label: one segment per child state, to scale."""
    counts: Mapping[str, int] = node.children or {}
    total = sum(counts.values())
    inner = width - 16
    left = x + 8
    for name, count in sorted(counts.items()):
        seg = inner * count / total
        color = _STATE_COLORS.get(name, "#999999")
        out.append(
            f'<rect class="child-states" x="{left:.1f}" y="{y:.1f}" width="{seg:.1f}" '
            f'height="4" fill="{color}" stroke="{_STROKE}" stroke-width="0.4">'
            f"<title>{count} {escape(name)}</title></rect>"
        )
        left += seg


def _text_color(fill: str) -> str:
    """Dark text on light fills, white on dark ones (WCAG relative luminance)."""
    try:
        r, g, b = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    except ValueError:
        return "#1a202c"

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#1a202c" if luminance > 0.36 else "#ffffff"
