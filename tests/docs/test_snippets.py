"""Every ```python block of README.md and docs/*.md runs, as a new user would paste it.

Each block is written to a file in a fresh temporary directory and run there with this
checkout's interpreter, in its own process, with a home directory of its own (so no
block reads the developer's config or results). A block that needs a server says so on
the line before it, and gets the server on 127.0.0.1 through environment variables the
way a user would point asyncflow at a real one::

    <!-- needs: s3 -->            moto's S3; AWS_ENDPOINT_URL_S3 and test keys
    <!-- needs: gcs -->           gcp-storage-emulator; STORAGE_EMULATOR_HOST
    <!-- needs: slack -->         the fake Slack; the SLACK_WEBHOOK_URL secret
    <!-- needs: webhook -->       a JSON receiver; the OPS_WEBHOOK secret

A block that is not meant to run (a signature, a fragment, a call to a real cluster)
is marked ``<!-- not-run: why -->`` on the line before it, and the reason is required.
The blocks run in parallel, once per session; each test then checks one block.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.gcs_emulator import GCSEmulator
from tests.servers.moto_s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoS3Server

REPO = Path(__file__).resolve().parents[2]
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BUCKETS = ("results", "models")
SERVERS = ("s3", "gcs", "slack", "webhook")
BLOCK_TIMEOUT = 60.0

_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
_MARK = re.compile(r"^\s*<!--\s*(?P<kind>not-run|needs):(?P<text>.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced python block: where it is, its code, and how it is marked."""

    path: Path
    line: int
    code: str
    not_run: str | None
    needs: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of ``path`` with the marks on the line before each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        indent, start = len(fence["indent"]), i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        i += 1
        if fence["lang"] != "python":
            continue
        mark = _MARK.match(lines[start - 1]) if start > 0 else None
        not_run = needs = None
        if mark is not None and mark["kind"] == "not-run":
            not_run = mark["text"].strip()
        elif mark is not None:
            needs = tuple(n.strip() for n in mark["text"].split(",") if n.strip())
        blocks.append(Block(path, start + 1, "\n".join(body) + "\n", not_run, needs or ()))
    return blocks


ALL_BLOCKS = [block for path in DOC_FILES for block in python_blocks(path)]
RUNNABLE = [block for block in ALL_BLOCKS if block.not_run is None]


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Accepts any JSON POST with 200, like a webhook receiver that is up."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def server_env() -> Iterator[dict[str, str]]:
    """The servers blocks may need, on 127.0.0.1, as the environment that points at them."""
    needed = {name for block in RUNNABLE for name in block.needs}
    env: dict[str, str] = {}
    stops: list[Callable[[], None]] = []
    if "s3" in needed:
        s3 = MotoS3Server().start()
        stops.append(s3.stop)
        for bucket in BUCKETS:
            s3.create_bucket(bucket)
        env.update(AWS_ENDPOINT_URL_S3=s3.url, AWS_ACCESS_KEY_ID=ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION)
    if "gcs" in needed:
        gcs = GCSEmulator().start()
        stops.append(gcs.stop)
        for bucket in BUCKETS:
            gcs.create_bucket(bucket)
        env["STORAGE_EMULATOR_HOST"] = gcs.url
    if "slack" in needed:
        slack = subprocess.Popen([sys.executable, "-m", "tests.servers.slack"], cwd=REPO,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert slack.stdout is not None and slack.stdin is not None
        port = int(slack.stdout.readline())
        def stop_slack() -> None:
            slack.communicate(timeout=30)

        stops.append(stop_slack)
        env["ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL"] = (
            f"http://127.0.0.1:{port}/services/T/B/X")
    if "webhook" in needed:
        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        thread = threading.Thread(target=receiver.serve_forever, daemon=True)
        thread.start()
        def stop_receiver() -> None:
            receiver.shutdown()
            receiver.server_close()

        stops.append(stop_receiver)
        env["ASYNCFLOW__CONTEXT__SECRETS__OPS_WEBHOOK"] = (
            f"http://127.0.0.1:{receiver.server_address[1]}/alerts")
    try:
        yield env
    finally:
        for stop in reversed(stops):
            stop()


def _run(block: Block, server_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="snippet-") as tmp:
        home = Path(tmp, "home")
        home.mkdir()
        script = Path(tmp, "snippet.py")
        script.write_text(block.code, encoding="utf-8")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("ASYNCFLOW__", "AWS_", "STORAGE_EMULATOR"))}
        env.update(HOME=str(home), PYTHONPATH=str(REPO),
                   ASYNCFLOW__USER_CONFIG_PATH=str(home / "config.toml"))
        for name in block.needs:
            env.update({key: value for key, value in server_env.items()
                        if name in _ENV_OF[key]})
        return subprocess.run([sys.executable, str(script)], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=BLOCK_TIMEOUT)


_ENV_OF = {
    "AWS_ENDPOINT_URL_S3": "s3", "AWS_ACCESS_KEY_ID": "s3", "AWS_SECRET_ACCESS_KEY": "s3",
    "AWS_REGION": "s3", "STORAGE_EMULATOR_HOST": "gcs",
    "ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL": "slack",
    "ASYNCFLOW__CONTEXT__SECRETS__OPS_WEBHOOK": "webhook",
}


@pytest.fixture(scope="session")
def outcomes(server_env: dict[str, str]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every runnable block run once, four at a time."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(lambda block: (block.id, _run(block, server_env)), RUNNABLE)
        return dict(done)


def test_the_docs_have_blocks_to_run() -> None:
    assert len(RUNNABLE) >= 20, [block.id for block in ALL_BLOCKS]


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.not_run is not None],
                         ids=lambda b: b.id)
def test_a_block_not_run_says_why(block: Block) -> None:
    assert len(block.not_run or "") >= 10, (
        f"{block.id}: write why the block is not run: <!-- not-run: the reason -->")


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.needs], ids=lambda b: b.id)
def test_a_block_needs_known_servers(block: Block) -> None:
    unknown = set(block.needs) - set(SERVERS)
    assert not unknown, f"{block.id}: unknown server(s) {sorted(unknown)}; known: {SERVERS}"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_block_runs(block: Block,
                    outcomes: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = outcomes[block.id]
    assert done.returncode == 0, (
        f"{block.id} failed (exit {done.returncode}):\n{block.code}\n"
        f"--- stdout\n{done.stdout[-2000:]}\n--- stderr\n{done.stderr[-4000:]}")
    # A notification that never arrived is logged, not raised: it must not pass either.
    assert "not delivered" not in done.stderr, f"{block.id}:\n{done.stderr[-4000:]}"
