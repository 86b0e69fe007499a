"""``asyncflow ui``: where it listens, when it needs a token, and a clean stop."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import pytest

from asyncflow._ui.cli import add_ui_command, is_loopback, run_ui

_MAIN = (
    "import argparse, sys\n"
    "from asyncflow._ui.cli import add_ui_command\n"
    "parser = argparse.ArgumentParser(prog='asyncflow')\n"
    "add_ui_command(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.handler(args))\n"
)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="asyncflow")
    add_ui_command(parser.add_subparsers())
    return parser.parse_args(["ui", *argv])


@contextmanager
def _serving(*argv: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", _MAIN, "ui", "--port", "0", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        found = re.search(r"serving (http://\S+/)", line)
        assert found, line + (proc.stderr.read().decode() if proc.stderr else "")
        yield proc, found.group(1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_loopback_addresses_are_recognised() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    assert not is_loopback("example.org")


def test_the_defaults_bind_this_machine_only() -> None:
    args = _parse()
    assert (args.host, args.port, args.token, args.url) == ("127.0.0.1", 8080, None, None)
    assert args.handler is run_ui


def test_another_address_needs_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_ui(_parse("--host", "0.0.0.0")) == 2
    err = capsys.readouterr().err
    assert err.startswith("asyncflow: error: --host 0.0.0.0")
    assert "--token" in err and "ASYNCFLOW__UI__TOKEN" in err


def test_a_bad_url_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_ui(_parse("--url", "mysql://db/history")) == 2
    assert "is not supported" in capsys.readouterr().err


@pytest.mark.anyio
async def test_it_serves_until_interrupted(history_url: str) -> None:
    with _serving("--url", history_url) as (proc, base):
        assert base.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session, session.get(base) as response:
            assert response.status == 200
            assert "Flow runs" in await response.text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


@pytest.mark.anyio
async def test_a_token_from_the_settings_is_required(
    history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__UI__TOKEN", "from-settings")
    with _serving("--url", history_url) as (_, base):
        async with aiohttp.ClientSession() as session:
            async with session.get(base) as response:
                assert response.status == 401
            headers = {"Authorization": "Bearer from-settings"}
            async with session.get(base, headers=headers) as response:
                assert response.status == 200
