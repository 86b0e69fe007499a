"""The engine stands alone: no module of ``asyncflow._core`` imports a module above it
(results, history, pictures, the public facade), not even inside a function. What it
needs from above is attached by ``asyncflow._wiring``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "asyncflow" / "_core"


def _runtime_imports(tree: ast.Module) -> list[ast.ImportFrom | ast.Import]:
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    return [n for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in type_only]


def test_no_core_module_imports_upward() -> None:
    upward = []
    for path in sorted(CORE.glob("*.py")):
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                upward.append(f"{path.name}:{node.lineno} from {'.' * node.level}{node.module}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (
                    node.module or "").startswith("asyncflow"):
                upward.append(f"{path.name}:{node.lineno} from {node.module}")
            elif isinstance(node, ast.Import):
                upward += [f"{path.name}:{node.lineno} import {a.name}"
                           for a in node.names if a.name.startswith("asyncflow")]
    assert upward == []


def test_the_engine_runs_a_flow_with_results_history_and_pictures_attached() -> None:
    script = (
        "import asyncflow, sys\n"
        "from asyncflow import Flow, task\n"
        "@task\n"
        "def one(): return 1\n"
        "with Flow('f') as flow: t = one()\n"
        "state = flow.run_sync(history=False)\n"
        "assert state.result[t]._result.value == 1\n"
        "assert '<svg' in flow.visualize()\n"
        "assert 'asyncflow._history._recorder' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
