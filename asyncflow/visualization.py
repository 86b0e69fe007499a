"""Pictures of flows: SVG, Graphviz DOT, Mermaid and PNG.

::

    svg = flow.visualize()                               # SVG text
    flow.visualize("flow.mmd")                           # Mermaid, written to flow.mmd
    state = await flow.run()
    flow.visualize("run.svg", flow_state=state)          # coloured by that run's states

SVG, DOT and Mermaid are produced in pure Python (the SVG by a layered layout), so they
need no system packages. PNG is drawn by Graphviz's ``dot`` program when it is installed.
In a picture of a run, each task is filled with its state's colour and mapped tasks show
how many children ended in each state.
"""

from __future__ import annotations

from ._visualization._png import (
    GraphvizError as GraphvizError,
    GraphvizNotFoundError as GraphvizNotFoundError,
)
from ._visualization._render import FORMATS as FORMATS, format_for as format_for, render as render

__all__ = ["FORMATS", "GraphvizError", "GraphvizNotFoundError", "format_for", "render"]
