"""The ``asyncflow`` command: argument parsing, dispatch and error reporting.

Every command reports a bad input as one ``asyncflow: error: ...`` line and exit code 2
(``--debug`` adds the traceback); a flow that ran and did not succeed exits 1.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from .._version import __version__
from ._cancel import add_cancel_command
from ._errors import EXIT_FAILED, EXIT_INTERRUPTED, CLIError
from ._result_read import COMPRESSIONS, RESULT_KINDS, SERIALIZERS, result_read_command
from ._run import run_command
from ._visualize import visualize_command

Command = Callable[[argparse.Namespace], int]

_MAIN_EXAMPLES = """\
examples:
  asyncflow run etl.py                       run the only flow defined in etl.py
  asyncflow run etl.py:flow -p n=3           run the flow in variable `flow`, n=3
  asyncflow run mypkg.pipelines:etl --json   run a flow from an importable module
  asyncflow visualize etl.py -o etl.svg      draw the flow (.svg .dot .mmd .png)
  asyncflow result read /path/to/result      show a checkpointed result
  asyncflow cancel 42                        cancel run 42 of the history, wherever it runs

Run `asyncflow COMMAND --help` for the options of a command.
"""

_RUN_EXAMPLES = """\
examples:
  asyncflow run etl.py
  asyncflow run etl.py:flow -p url=https://example.com -p limit=10
  asyncflow run etl.py -p 'ids=[1, 2, 3]' --max-concurrency 8 --checkpointing
  asyncflow run etl.py --params-file params.json --timeout 600
  asyncflow run mypkg.pipelines:etl --json > states.json
  asyncflow run etl.py --restart last        finish the latest failed or crashed run

Parameter values are read as JSON when they parse (3 is an int, [1, 2] a list, true a
bool) and are plain strings otherwise; -p overrides values from --params-file.
In a terminal a live view shows counts per state and a bar per mapped task; otherwise a
plain log is printed. With --json the report goes to stdout and the log to stderr.

exit codes: 0 the flow succeeded, 1 it did not, 2 bad input, 130 interrupted (Ctrl-C
cancels the run; running tasks end Cancelled and their state handlers run).
"""

_VISUALIZE_EXAMPLES = """\
examples:
  asyncflow visualize etl.py -o etl.svg                 SVG, no system packages needed
  asyncflow visualize etl.py:flow -o etl.mmd            Mermaid, for Markdown pages
  asyncflow visualize etl.py -o etl.dot                 Graphviz DOT text
  asyncflow visualize etl.py -o etl.png                 PNG (needs Graphviz's `dot`)
  asyncflow visualize etl.py --state-from-run -p n=3 -o run.svg
                                                        run first, colour tasks by state
  asyncflow visualize etl.py --format mermaid           print Mermaid on stdout
"""

_RESULT_EXAMPLES = """\
examples:
  asyncflow result read /data/results/asyncflow-result-2024-05-01t12-00-00
  asyncflow result read 2024/05/01/run.bin --dir /data/results
  asyncflow result read '{"rows": 3}' --result json --serializer json
  asyncflow result read daily/2024-05-01.json --result s3 --bucket my-bucket --serializer json
  asyncflow result read model.pkl.gz --result gcs --bucket b --compression gzip
  asyncflow result read run.bin --result s3 --bucket b --endpoint-url http://minio:9000
  asyncflow result read run.bin --signing-key-env ASYNCFLOW_SIGNING_KEY

Exit code 1 when nothing is stored at LOCATION or it cannot be read.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``asyncflow`` argument parser with its subcommands."""
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of errors")
    parser = argparse.ArgumentParser(
        prog="asyncflow",
        description="Run, draw and inspect asyncflow flows.",
        epilog=_MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"asyncflow-engine {__version__}")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show the full traceback of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", parents=[debug], help="run a flow with a live progress view",
        description="Run a flow and exit with its outcome.",
        epilog=_RUN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _flow_argument(run)
    _parameter_options(run)
    run.add_argument("--max-concurrency", type=_positive_int, metavar="N",
                     help="run at most N task bodies at the same time")
    run.add_argument("--checkpointing", action=argparse.BooleanOptionalAction, default=None,
                     help="persist task results (default: the flows.checkpointing setting)")
    run.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                     help="cancel the run after this many seconds (the flow ends TimedOut)")
    run.add_argument("--json", action="store_true",
                     help="print the final states as JSON on stdout")
    run.add_argument("-q", "--quiet", action="store_true", help="show no progress")
    run.add_argument("--restart", metavar="RUN",
                     help="finish a recorded run instead of starting afresh: its history "
                          "run number, flow_run_id, or `last` (the latest failed or "
                          "crashed run); tasks that succeeded in it are not run again")
    run.add_argument("--history", metavar="URL",
                     help="record the run in this history database (and find --restart "
                          "RUN there); default: the history.url setting")
    run.set_defaults(handler=run_command)

    visualize = commands.add_parser(
        "visualize", parents=[debug], help="draw a flow as SVG, DOT, Mermaid or PNG",
        description="Draw a flow's tasks and dependencies.",
        epilog=_VISUALIZE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _flow_argument(visualize)
    visualize.add_argument("-o", "--output", metavar="FILE",
                           help="file to write; its extension picks the format "
                                "(.svg .dot .mmd .png). Without it the text goes to stdout")
    visualize.add_argument("--format", choices=["svg", "dot", "mermaid", "mmd", "png"],
                           help="output format (default: from the -o extension, else svg)")
    visualize.add_argument("--state-from-run", action="store_true",
                           help="run the flow first and colour each task by its final state")
    _parameter_options(visualize, note=" (with --state-from-run)")
    visualize.set_defaults(handler=visualize_command)

    result = commands.add_parser(
        "result", parents=[debug], help="inspect stored results",
        description="Inspect stored results.",
        epilog="examples:\n  asyncflow result read /data/results/asyncflow-result-...\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    result_commands = result.add_subparsers(dest="result_command", metavar="COMMAND")
    result_commands.required = True
    read = result_commands.add_parser(
        "read", parents=[debug], help="print the value stored at a location",
        description="Print the value stored at LOCATION, pretty-printed.",
        epilog=_RESULT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    read.add_argument("location", metavar="LOCATION",
                      help="where the value is stored (a `location` from `run --json`)")
    read.add_argument("--result", choices=RESULT_KINDS, default="local",
                      help="the storage that holds it (default: local)")
    read.add_argument("--dir", metavar="DIR",
                      help="directory relative local locations are joined to "
                           "(default: the results.local_dir setting)")
    read.add_argument("--bucket", metavar="NAME", help="bucket for --result s3 or gcs")
    read.add_argument("--endpoint-url", metavar="URL",
                      help="for --result s3 or gcs: an S3-compatible server or a GCS "
                           "emulator instead of the cloud service")
    read.add_argument("--serializer", choices=SERIALIZERS, default="pickle",
                      help="how the value was serialized (default: pickle)")
    read.add_argument("--compression", choices=COMPRESSIONS,
                      help="the value was written with a CompressedSerializer of this format")
    read.add_argument("--signing-key-env", metavar="VAR",
                      help="the value was signed (SignedSerializer) with the key held in "
                           "this environment variable")
    read.set_defaults(handler=result_read_command)

    from .._ui.cli import add_ui_command

    add_ui_command(commands, parents=[debug])
    add_cancel_command(commands, parents=[debug])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``asyncflow`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    handler: Command | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    debug = bool(getattr(args, "debug", False))
    try:
        return handler(args)
    except CLIError as exc:
        _report(f"asyncflow: error: {exc.message}", exc, debug)
        return exc.exit_code
    except KeyboardInterrupt:
        print("asyncflow: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        _report(f"asyncflow: unexpected error: {type(exc).__name__}: {exc}", exc, debug)
        return EXIT_FAILED


def _report(line: str, exc: BaseException, debug: bool) -> None:
    sys.stdout.flush()
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    else:
        line += " (run with --debug for the traceback)" if not isinstance(exc, CLIError) else ""
    print(line, file=sys.stderr)


def _flow_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "flow", metavar="FLOW",
        help="path/to/file.py[:variable] or module[:variable]; the variable may be left "
             "out when the file defines one flow",
    )


def _parameter_options(parser: argparse.ArgumentParser, note: str = "") -> None:
    parser.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                        help=f"a flow parameter; repeatable; VALUE is JSON or a string{note}")
    parser.add_argument("--params-file", metavar="FILE",
                        help=f"a JSON object of parameters{note}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value
