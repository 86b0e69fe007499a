"""The ``asyncflow`` command line: run flows with a live view, draw them, read results.

::

    asyncflow run etl.py:flow -p n=3          # live view, exit 0/1 with the flow's outcome
    asyncflow visualize etl.py -o etl.svg     # .svg .dot .mmd .png
    asyncflow result read LOCATION            # print a checkpointed value

The live view needs the ``cli`` extra (``pip install 'asyncflow-engine[cli]'``); without
it the command prints a plain log. ``main(argv)`` returns the exit code instead of
exiting, so it can be called from Python too.
"""

from __future__ import annotations

from ._app import build_parser as build_parser, main as main
from ._errors import (
    EXIT_FAILED as EXIT_FAILED,
    EXIT_INTERRUPTED as EXIT_INTERRUPTED,
    EXIT_OK as EXIT_OK,
    EXIT_USAGE as EXIT_USAGE,
)

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]
