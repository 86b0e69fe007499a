"""Running the command in a pseudo-terminal, as a user's shell would."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

from .helpers import CLI, strip_ansi


def run_in_terminal(
    *args: str, cwd: Path, env: dict[str, str] | None = None, columns: int = 100,
    timeout: float = 45, argv: list[str] | None = None,
) -> tuple[int, str]:
    """Run ``asyncflow ARGS`` attached to a pty; return the exit code and the text shown."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = dict(os.environ if env is None else env)
    environment["TERM"] = "xterm-256color"
    environment.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        argv if argv is not None else [*CLI, *args],
        cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=environment, close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, strip_ansi(b"".join(chunks).decode("utf-8", errors="replace"))
