"""The package carries the PEP 561 marker, and a build installs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_package_contains_py_typed(tmp_path: Path) -> None:
    build_lib = tmp_path / "lib"
    egg_base = tmp_path / "egg"
    egg_base.mkdir()
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", "import setuptools; setuptools.setup()", "-q",
         "egg_info", "--egg-base", str(egg_base), "build_py", "--build-lib", str(build_lib)],
        cwd=ROOT, check=True, capture_output=True, timeout=120,
    )
    assert (build_lib / "asyncflow" / "py.typed").is_file()
    assert (build_lib / "asyncflow" / "_core" / "_task.py").is_file()
