"""``asyncflow ui``: serve the run-history dashboard.

The command line wires it in with :func:`add_ui_command`; :func:`run_ui` runs it and
returns the exit code (0 after a clean stop with Ctrl-C or SIGTERM, 2 for bad input).
It binds 127.0.0.1 unless told otherwise; any other address needs a token (``--token``,
or the ``ui.token`` setting, e.g. ``ASYNCFLOW__UI__TOKEN``), which every request must
then carry.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._core._config import load_config
from .._core._exceptions import AsyncflowError
from ..cli._errors import CLIError
from ..cli._loading import load_flow

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

_EXAMPLES = """\
examples:
  asyncflow ui                                  http://127.0.0.1:8080, the default history
  asyncflow ui --port 9000 --url sqlite:////srv/etl/history.db
  asyncflow ui --url postgresql://etl@db/asyncflow
  ASYNCFLOW__UI__TOKEN=s3cret asyncflow ui --host 0.0.0.0
                                                reachable from other machines: token needed
  asyncflow ui --flows etl.py:flow --flows reports.py
                                                also start, cancel and restart these flows

The history database is --url, else the history.url setting, else
sqlite:///~/.asyncflow/history.db. With a token, open http://HOST:PORT/?token=TOKEN once
(a cookie keeps you in) or send 'Authorization: Bearer TOKEN'.
"""


def add_ui_command(
    subparsers: Any, *, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add the ``ui`` subcommand to ``subparsers`` (from ``parser.add_subparsers()``)."""
    ui: argparse.ArgumentParser = subparsers.add_parser(
        "ui", parents=list(parents), help="serve the run-history dashboard in a browser",
        description="Serve a dashboard of recorded flow runs: their DAG, task states, "
                    "results and transitions, updated live while flows run.",
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ui.add_argument("--url", metavar="URL",
                    help="the history database (sqlite:///... or postgresql://...)")
    ui.add_argument("--host", default=DEFAULT_HOST,
                    help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)")
    ui.add_argument("--port", type=_port, default=DEFAULT_PORT,
                    help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)")
    ui.add_argument("--token", metavar="TOKEN",
                    help="require this token on every request; needed with a --host other "
                         "than a loopback address (default: the ui.token setting)")
    ui.add_argument("--flows", action="append", metavar="FLOW", default=None,
                    help="a flow the dashboard can start (a form of its parameters, "
                         "Run, Cancel, Restart from failure): path/to/file.py[:variable] "
                         "or module:variable; repeatable. Without it the dashboard is "
                         "read-only")
    ui.set_defaults(handler=run_ui)
    return ui


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {port}")
    return port


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run_ui(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted; the exit code."""
    from ..history import configured_url

    host: str = args.host
    token: str | None = args.token or str(load_config().get_path("ui.token") or "") or None
    if not is_loopback(host) and token is None:
        return _error(
            f"--host {host} makes the dashboard reachable from other machines, so it needs "
            "a token: pass --token TOKEN or set ASYNCFLOW__UI__TOKEN (or keep the default "
            f"--host {DEFAULT_HOST})"
        )
    url = configured_url(args.url)
    try:
        from . import create_app

        flows = [load_flow(target) for target in getattr(args, "flows", None) or ()]
        app = create_app(url, token=token, flows=flows)
    except CLIError as exc:
        return _error(exc.message)
    except (AsyncflowError, ValueError) as exc:
        return _error(str(exc))
    try:
        asyncio.run(serve(app, host, args.port, url=url))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        return _error(f"cannot serve on {host}:{args.port}: {exc}")
    except AsyncflowError as exc:
        return _error(str(exc))
    return 0


def _error(message: str) -> int:
    print(f"asyncflow: error: {message}", file=sys.stderr)
    return 2


async def serve(app: web.Application, host: str, port: int, *, url: str) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, printing where it listens."""
    from aiohttp import web

    from .._history._store import display_url

    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = _bound_port(site) or port
        shown = f"[{host}]" if ":" in host else host
        print(f"asyncflow ui: serving http://{shown}:{bound}/ (history: {display_url(url)}); "
              "Ctrl-C stops it", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def _bound_port(site: Any) -> int | None:
    server = getattr(site, "_server", None)
    for sock in getattr(server, "sockets", None) or ():
        return int(sock.getsockname()[1])
    return None
