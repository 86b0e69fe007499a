"""``asyncflow cancel RUN``: cancel a running run through the history, wherever it runs."""

from __future__ import annotations

import argparse
import asyncio

from .._history._errors import HistoryError, RunFinishedError, RunNotFoundError
from .._history._records import FlowRunRecord
from ..history import cancel_run
from ._errors import EXIT_FAILED, EXIT_OK, CLIError

#: How long the command waits for the run to end, unless told otherwise.
DEFAULT_WAIT = 30.0


def cancel_command(args: argparse.Namespace) -> int:
    run: int | str = int(args.run) if args.run.isdigit() else args.run
    wait = float(args.wait)
    try:
        record = asyncio.run(cancel_run(run, url=args.history, wait=wait or None))
    except RunNotFoundError as exc:
        raise CLIError(str(exc)) from exc
    except RunFinishedError as exc:
        raise CLIError(str(exc), exit_code=EXIT_FAILED) from exc
    except HistoryError as exc:  # its message names the database, password hidden
        raise CLIError(f"cannot ask for the run to be cancelled: {exc}") from exc
    return _report(record, wait)


def _report(record: FlowRunRecord, wait: float) -> int:
    name = f"flow run {record.id} of {record.flow_name!r}"
    if not record.is_finished:
        where = f" (pid {record.pid} on {record.host})" if record.pid is not None else ""
        if not wait:
            print(f"Asked {name} to cancel: the process running it{where} cancels it "
                  "within about a second.")
            return EXIT_OK
        print(f"Asked {name} to cancel, but it is still cancelling after {wait:g}s: the "
              f"process running it{where} may be busy, or too old to take cancel requests.")
        return EXIT_FAILED
    if record.state == "Cancelled":
        print(f"Cancelled {name}.")
        return EXIT_OK
    print(f"Asked {name} to cancel, but it ended {record.state} first.")
    return EXIT_FAILED


def add_cancel_command(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                       *, parents: list[argparse.ArgumentParser]) -> None:
    cancel = commands.add_parser(
        "cancel", parents=parents, help="cancel a running run, wherever it runs",
        description="Ask for a running flow run to be cancelled, through the history: "
                    "the process running it (asyncflow run, a service, a script) notices "
                    "within about a second, cancels its tasks and ends it Cancelled.",
        epilog="examples:\n"
               "  asyncflow cancel 42                        run 42 of the history\n"
               "  asyncflow cancel 9f0c...e1 --history postgresql://etl@db/asyncflow\n"
               "  asyncflow cancel 42 --wait 0               ask, and do not wait\n\n"
               "exit codes: 0 the run ended Cancelled (or, with --wait 0, was asked to),\n"
               "1 it had already ended or did not end in time, 2 no such run.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cancel.add_argument("run", metavar="RUN",
                        help="the run's number in the history, or its flow_run_id")
    cancel.add_argument("--history", metavar="URL",
                        help="the history database (default: the history.url setting)")
    cancel.add_argument("--wait", type=_seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                        help=f"wait this long for the run to end (default {DEFAULT_WAIT:g}; "
                             "0 returns once the cancel is asked for)")
    cancel.set_defaults(handler=cancel_command)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value
