"""Choosing the output format and producing it: the body of :func:`asyncflow.visualization.render`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._dot import render_dot
from ._graph import build_graph
from ._mermaid import render_mermaid
from ._png import render_png
from ._svg import render_svg

if TYPE_CHECKING:
    from .._core._flow import Flow
    from .._core._states import State

#: Output formats by name, with the file extensions that select them.
FORMATS: dict[str, tuple[str, ...]] = {
    "svg": (".svg",),
    "dot": (".dot", ".gv"),
    "mermaid": (".mmd", ".mermaid"),
    "png": (".png",),
}
_ALIASES = {"mmd": "mermaid", "gv": "dot"}


def format_for(filename: str | os.PathLike[str]) -> str | None:
    """The format a file name's extension selects (``"svg"`` for ``flow.svg``), or None."""
    ext = os.path.splitext(os.fspath(filename))[1].lower()
    for name, extensions in FORMATS.items():
        if ext in extensions:
            return name
    return None


def render(
    flow: Flow,
    *,
    filename: str | os.PathLike[str] | None = None,
    format: str | None = None,  # noqa: A002 - the natural name, as in flow.visualize
    flow_state: State | None = None,
) -> str:
    """Draw ``flow``; return the text (SVG, DOT, Mermaid) or, for PNG, the path written.

    ``format`` defaults to the one ``filename``'s extension selects, else SVG. With a
    ``filename`` the picture is also written there. ``flow_state`` is the state a run of
    this flow returned: nodes are then coloured by their task's state.
    """
    chosen = _choose_format(filename, format)
    graph = build_graph(flow, flow_state)
    if chosen == "png":
        if filename is None:
            raise ValueError(
                "PNG is a binary picture written to a file; pass filename='flow.png' "
                "(or choose format='svg', 'dot' or 'mermaid' to get text back)"
            )
        return render_png(render_dot(graph), filename)
    if chosen == "svg":
        text = render_svg(graph)
    elif chosen == "dot":
        text = render_dot(graph)
    else:
        text = render_mermaid(graph)
    if filename is not None:
        with open(filename, "w", encoding="utf-8") as f:
            f.write(text)
    return text


def _choose_format(filename: str | os.PathLike[str] | None, format: str | None) -> str:  # noqa: A002
    from_name = format_for(filename) if filename is not None else None
    if format is None:
        return from_name or "svg"
    chosen = _ALIASES.get(format.lower(), format.lower())
    if chosen not in FORMATS:
        raise ValueError(
            f"unknown picture format {format!r}; choose one of {', '.join(FORMATS)} "
            "(or 'mmd' for Mermaid)"
        )
    if from_name is not None and from_name != chosen:
        raise ValueError(
            f"filename {os.fspath(filename)!r} names a {from_name} file but format={format!r} "  # type: ignore[arg-type]
            f"was given; pass format={from_name!r} or change the extension"
        )
    return chosen
