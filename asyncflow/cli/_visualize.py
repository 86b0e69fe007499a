"""``asyncflow visualize``: draw a flow as SVG, DOT, Mermaid or PNG."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .._core._states import State
from ..visualization import GraphvizError, format_for, render
from ._errors import EXIT_FAILED, EXIT_OK, CLIError
from ._loading import load_flow
from ._params import build_parameters
from ._run import run_flow
from ._tracking import RunTracker


def visualize_command(args: argparse.Namespace) -> int:
    flow = load_flow(args.flow)
    fmt = args.format
    if fmt is None and args.output is not None:
        fmt = format_for(args.output)
        if fmt is None:
            raise CLIError(
                f"cannot tell the format of {args.output!r} from its extension; use .svg, "
                ".dot, .mmd or .png, or pass --format"
            )
    fmt = fmt or "svg"
    if fmt == "png" and args.output is None:
        raise CLIError("PNG is written to a file; pass -o flow.png")
    flow_state: State | None = None
    if args.state_from_run:
        parameters = build_parameters(flow, args.param or (), args.params_file)
        flow_state, signum = asyncio.run(run_flow(flow, parameters, {}, RunTracker(flow)))
        if signum is not None:
            return 128 + signum
        assert flow_state is not None
        print(f"asyncflow: ran flow {flow.name!r}: {flow_state.name}", file=sys.stderr)
    elif args.param or args.params_file:
        raise CLIError("parameters are used only with --state-from-run, which runs the flow")
    options: dict[str, Any] = {"format": fmt, "flow_state": flow_state}
    try:
        text = render(flow, filename=args.output, **options)
    except GraphvizError as exc:
        raise CLIError(str(exc), exit_code=EXIT_FAILED) from exc
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    except OSError as exc:
        raise CLIError(f"cannot write {args.output!r}: {exc.strerror or exc}",
                       exit_code=EXIT_FAILED) from exc
    if args.output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        print(f"asyncflow: wrote {args.output}", file=sys.stderr)
    return EXIT_OK
