"""``asyncflow ui``: where it listens, when it needs a token, and a clean stop."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from asyncflow import ConfigError
from asyncflow._ui.cli import add_ui_command, is_loopback, run_ui
from asyncflow.ui import serve

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


def test_a_flow_that_cannot_be_loaded_is_reported(
    capsys: pytest.CaptureFixture[str], history_url: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nowhere.py")
    assert run_ui(_parse("--url", history_url, "--flows", missing)) == 2
    assert f"asyncflow: error: file {missing!r} does not exist" in capsys.readouterr().err


@pytest.mark.anyio
async def test_flows_given_with_flows_can_be_started(history_url: str) -> None:
    example = str(Path(__file__).parents[2] / "examples" / "dashboard_actions.py")
    with _serving("--url", history_url, "--flows", example + ":flow") as (_, base):
        jar = aiohttp.CookieJar(unsafe=True)  # keep the session cookie of 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(base) as response:
                assert 'data-flow="daily-report"' in await response.text()
            async with session.get(base + "flows/daily-report") as response:
                form = await response.text()
            token = re.search(r'name="csrf_token" value="(\w+)"', form)
            assert token and 'name="p:day" required' in form
            data = {"csrf_token": token.group(1), "p:day": "2024-05-31", "p:count": "2"}
            async with session.post(base + "flows/daily-report/runs", data=data) as response:
                assert response.status == 200 and str(response.url).endswith("/runs/1")
                assert "2024-05-31" in await response.text()


@pytest.mark.anyio
async def test_serve_from_python_refuses_another_address_without_a_token() -> None:
    with pytest.raises(ConfigError, match=re.escape("host='0.0.0.0' makes the dashboard")):
        await serve(host="0.0.0.0", port=0)


def test_serve_from_python_serves_the_flows_it_is_given(history_url: str) -> None:
    example = Path(__file__).parents[2] / "examples" / "dashboard_actions.py"
    code = (
        "import asyncio, runpy, sys\n"
        "from asyncflow.ui import serve\n"
        f"flow = runpy.run_path({str(example)!r})['flow']\n"
        f"asyncio.run(serve(flows=[flow], url={history_url!r}, port=0))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        found = re.search(r"serving (http://\S+/)", line)
        assert found, line + (proc.stderr.read().decode() if proc.stderr else "")
        with urllib.request.urlopen(found.group(1) + "flows/daily-report") as response:
            assert "Start a run of daily-report" in response.read().decode()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
