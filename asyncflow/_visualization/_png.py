"""PNG output through Graphviz's ``dot`` program (the one format that needs a system tool)."""

from __future__ import annotations

import os
import shutil
import subprocess

from .._core._exceptions import AsyncflowError


class GraphvizError(AsyncflowError, RuntimeError):
    """Graphviz's ``dot`` program could not draw the picture."""


class GraphvizNotFoundError(GraphvizError):
    """PNG output was asked for but Graphviz's ``dot`` program is not installed."""


def render_png(dot_text: str, filename: str | os.PathLike[str]) -> str:
    """Write ``dot_text`` drawn by Graphviz to ``filename`` as PNG; return the path."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(
            "PNG output needs Graphviz's `dot` program, which is not on PATH. Install it "
            "with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
            "(macOS) or `conda install graphviz`; `pip install graphviz` adds only the "
            "Python bindings, not the program. Or write .svg, .dot or .mmd, which need "
            "nothing installed"
        )
    path = os.fspath(filename)
    completed = subprocess.run(
        [dot, "-Tpng", "-o", path],
        input=dot_text.encode(),
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()
        raise GraphvizError(
            f"Graphviz `dot` failed to write {path!r} (exit {completed.returncode}): {detail}"
        )
    return path
