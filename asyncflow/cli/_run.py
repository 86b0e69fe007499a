"""``asyncflow run``: run a flow with a live view, then exit with its outcome.

The flow runs inside an asyncio task. SIGINT (Ctrl-C) and SIGTERM cancel that task; the
engine then moves running tasks to Cancelled and awaits their state handlers (bounded by
``engine.cancel_handler_timeout``) before ``flow.run`` re-raises, and the command exits
with 128 + the signal number (130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from .._core._exceptions import FlowDefinitionError, FlowRunError, ParameterError
from .._core._flow import Flow
from .._core._states import State
from .._history._errors import HistoryError, RestartError
from ._errors import EXIT_FAILED, EXIT_OK, CLIError
from ._loading import load_flow
from ._params import build_parameters
from ._plain_log import PlainLog, one_line
from ._report import run_report
from ._task_logs import TaskLogLines
from ._tracking import RunTracker

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_command(args: argparse.Namespace) -> int:
    flow = load_flow(args.flow)
    restart = getattr(args, "restart", None)
    parameters = build_parameters(flow, args.param or (), args.params_file,
                                  require=restart is None)
    options: dict[str, Any] = {}
    if restart is not None:
        options["restart_from"] = int(restart) if restart.isdigit() else restart
    if getattr(args, "history", None):
        options["history"] = args.history
    if args.max_concurrency is not None:
        options["max_concurrency"] = args.max_concurrency
    if args.checkpointing is not None:
        options["checkpointing"] = args.checkpointing
    if args.timeout is not None:
        options["timeout"] = args.timeout
    stream = sys.stderr if args.json else sys.stdout
    tracker = RunTracker(flow)
    with progress_display(tracker, stream, quiet=args.quiet) as live:
        outcome = asyncio.run(run_flow(flow, parameters, options, tracker))
    state, signum = outcome
    if args.json:
        final = state if state is not None else tracker.flow_state
        if final is not None:
            json.dump(run_report(flow, final, tracker.elapsed), sys.stdout, indent=2,
                      default=str)
            sys.stdout.write("\n")
    if signum is not None:
        _say(stream, live, f"Interrupted by {signal.Signals(signum).name}: the run was "
             "cancelled and its tasks' handlers have run.", "bold yellow")
        return 128 + signum
    assert state is not None
    if live:
        message = one_line(state.message)
        _say(stream, live, f"Flow {flow.name!r} finished: {state.name}"
             + (f" ({message})" if message else "") + f" in {tracker.elapsed:.2f}s",
             "bold green" if state.is_successful() else "bold red")
    return EXIT_OK if state.is_successful() else EXIT_FAILED


async def run_flow(
    flow: Flow, parameters: dict[str, Any], options: dict[str, Any], tracker: RunTracker
) -> tuple[State | None, int | None]:
    """Run the flow; ``(final state, None)``, or ``(None, signal number)`` if interrupted."""
    loop = asyncio.get_running_loop()
    observers: list[Any] = [tracker]
    if isinstance(tracker.listener, PlainLog):  # the plain log shows what tasks log too
        observers.append(TaskLogLines(tracker.listener, tracker))
    run = asyncio.ensure_future(flow.run(parameters, observers=observers, **options))
    received: list[int] = []

    def interrupt(signum: int) -> None:
        received.append(signum)
        run.cancel()

    installed = []
    for signum in _SIGNALS:
        try:
            loop.add_signal_handler(signum, interrupt, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            continue
        installed.append(signum)
    try:
        state = await run
    except asyncio.CancelledError:
        if not received:
            raise
        return None, received[0]
    except (ParameterError, FlowDefinitionError, FlowRunError) as exc:
        raise CLIError(f"flow {flow.name!r} cannot run: {exc}") from exc
    except (RestartError, HistoryError) as exc:
        raise CLIError(f"flow {flow.name!r} cannot be restarted: {exc}") from exc
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    return state, None


@contextlib.contextmanager
def progress_display(tracker: RunTracker, stream: TextIO, *, quiet: bool) -> Iterator[bool]:
    """Show progress on ``stream`` while the body runs; yields True for the live view.

    A terminal gets the rich live view; a pipe or file gets the plain line log (also the
    fallback when rich is not installed).
    """
    if quiet:
        yield False
        return
    if stream.isatty():
        try:
            from rich.console import Console

            from ._live_view import LiveView
        except ImportError:
            stream.write("asyncflow: the live view needs rich; install it with: "
                         "pip install 'asyncflow-engine[cli]'. Showing a plain log.\n")
        else:
            view = LiveView(tracker, Console(file=stream))
            tracker.listener = view
            with view:
                yield True
            return
    tracker.listener = PlainLog(stream)
    yield False


def _say(stream: TextIO, live: bool, text: str, style: str) -> None:
    if live:
        from rich.console import Console

        Console(file=stream).print(text, style=style, highlight=False)
    else:
        stream.write(text + "\n")
        stream.flush()
