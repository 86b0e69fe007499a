"""Installing the Debian packages a test needs, when the machine lacks them.

The README's test command must do all set-up on a fresh machine that has only Python
and pip, so fixtures that need a system program (Chromium, PostgreSQL) install its
package with apt-get when they run as root, once per session. Elsewhere they fail with
the command to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

import pytest

_lock = threading.Lock()
_updated = False


def ensure_package(package: str, present: bool) -> None:
    """Install ``package`` with apt-get unless ``present``; fail clearly if that is impossible."""
    global _updated
    if present:
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.fail(f"this test needs the Debian package {package!r}: "
                    f"run `sudo apt-get install -y {package}` and try again")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with _lock:
        if not _updated:
            subprocess.run([apt, "update", "-q"], check=True, env=env, capture_output=True,
                           timeout=600)
            _updated = True
        done = subprocess.run([apt, "install", "-y", "-q", "--no-install-recommends", package],
                              env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"apt-get install {package} failed: {done.stderr.strip()[-500:]}")
