"""The live view, checked in a real (pseudo-)terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from .helpers import NUMBERS_FLOW, write
from .terminal import run_in_terminal


def test_a_terminal_gets_counts_a_progress_bar_and_printed_failures(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)

    code, screen = run_in_terminal("run", "counting.py", "-p", "n=20", "-p", "fail_on=[7]",
                                   cwd=tmp_path)

    assert code == 1
    # retries and failures are printed above the view as they happen
    assert "↻ square-1[3]: Retrying task run (attempt 2 of 2)" in screen
    assert "✗ square-1[7]: Failed (Error during execution of task: ValueError('7 is not allowed'))" in screen
    # the final frame: flow state, counts per state, one bar per mapped task
    final = screen[screen.rindex("flow 'numbers'"):]
    assert "flow 'numbers'  Failed  00:" in final
    assert "● Success 23" in final  # 3 parameters, numbers, 19 children
    assert "● Mapped 1" in final
    assert "● Failed 1" in final
    assert "● TriggerFailed 1" in final
    bar_line = next(line for line in final.splitlines() if line.startswith("square-1"))
    assert "━━━━━━" in bar_line
    assert bar_line.split()[-3:] == ["20/20", "1", "failed"]
    assert "retries 2   failures 2" in final
    assert "Flow 'numbers' finished: Failed (Some reference tasks failed.) in" in final
    assert "Traceback" not in screen


def test_without_rich_a_terminal_gets_the_plain_log_and_a_hint(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)
    no_rich = (
        "import sys; sys.modules['rich'] = None; "  # makes `import rich` raise ImportError
        "from asyncflow.cli import main; sys.exit(main(sys.argv[1:]))"
    )

    code, screen = run_in_terminal(
        cwd=tmp_path, argv=[sys.executable, "-c", no_rich, "run", "counting.py"],
    )

    assert code == 0
    assert "the live view needs rich; install it with: pip install 'asyncflow-engine[cli]'" in screen
    assert "square-1: 5/5 children finished (5 Success)" in screen
    assert "●" not in screen
