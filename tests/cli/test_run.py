"""`asyncflow run`: exit codes, parameters, run options, the plain log and --json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .helpers import CLI, NUMBERS_FLOW, run_cli, write


def test_a_successful_flow_exits_0_and_logs_its_transitions(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)

    done = run_cli("run", "counting.py", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("flow 'numbers': Running")
    assert any(line.endswith("square-1: mapped over 5 children") for line in lines)
    assert any("square-1[3]: Retrying task run (attempt 2 of 2)" in line for line in lines)
    assert any(line.endswith("square-1: 5/5 children finished (5 Success)") for line in lines)
    assert any(line.endswith("total-1: Success") for line in lines)
    assert "flow 'numbers': Success after " in lines[-1]
    assert done.stderr == ""


def test_a_failed_flow_exits_1_and_logs_the_failure(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)

    done = run_cli("run", "counting.py", "-p", "fail_on=[2]", cwd=tmp_path)

    assert done.returncode == 1
    assert "square-1[2]: Failed (Error during execution of task: ValueError('2 is not allowed'))" in done.stdout
    assert "total-1: TriggerFailed" in done.stdout
    assert "flow 'numbers': Failed" in done.stdout.splitlines()[-1]
    assert "Traceback" not in done.stdout + done.stderr


def test_parameter_values_are_json_when_they_parse_and_strings_otherwise(tmp_path: Path) -> None:
    write(tmp_path / "echo.py", """\
        import json
        from asyncflow import Flow, Parameter, task

        @task
        def show(a, b, c, d):
            print("VALUES", json.dumps([a, b, c, d]), flush=True)

        with Flow("echo") as flow:
            show(Parameter("a"), Parameter("b"), Parameter("c"), Parameter("d"))
    """)

    done = run_cli("run", "echo.py", "-p", "a=3", "-p", "b=[1, 2]", "-p", "c=hello world",
                   "-p", 'd={"k": null}', "--quiet", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'VALUES [3, [1, 2], "hello world", {"k": null}]'


def test_params_file_values_are_overridden_by_p(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)
    out = tmp_path / "total.json"
    (tmp_path / "params.json").write_text(json.dumps({"n": 100, "out": str(out)}))

    done = run_cli("run", "counting.py", "--params-file", "params.json", "-p", "n=4",
                   cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == 0 + 1 + 4 + 9


def test_max_concurrency_bounds_running_task_bodies(tmp_path: Path) -> None:
    write(tmp_path / "wide.py", """\
        import asyncio
        from pathlib import Path
        from asyncflow import Flow, Parameter, task, unmapped

        running = 0
        peak = 0

        @task
        async def work(i):
            global running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

        @task
        def report(_, out):
            Path(out).write_text(str(peak))

        with Flow("wide") as flow:
            report(work.map(list(range(8))), out=Parameter("out"))
    """)

    limited = run_cli("run", "wide.py", "-p", "out=limited", "--max-concurrency", "2",
                      "--quiet", cwd=tmp_path)
    free = run_cli("run", "wide.py", "-p", "out=free", "--quiet", cwd=tmp_path)

    assert limited.returncode == free.returncode == 0
    assert (tmp_path / "limited").read_text() == "2"
    assert (tmp_path / "free").read_text() == "8"


def test_json_reports_each_tasks_final_state_on_stdout(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)

    done = run_cli("run", "counting.py", "-p", "n=3", "-p", "fail_on=[1]", "--json", cwd=tmp_path)

    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["flow"] == "numbers"
    assert report["state"] == "Failed"
    assert report["message"] == "Some reference tasks failed."
    tasks = {t["slug"]: t for t in report["tasks"]}
    assert set(tasks) == {"n", "fail_on", "out", "numbers-1", "square-1", "total-1"}
    assert tasks["square-1"]["name"] == "square"
    assert tasks["square-1"]["state"] == "Mapped"
    assert tasks["square-1"]["map"] == {"total": 3, "states": {"Failed": 1, "Success": 2}}
    assert tasks["total-1"]["state"] == "TriggerFailed"
    assert tasks["numbers-1"] == {"name": "numbers", "slug": "numbers-1", "state": "Success",
                                  "message": "Task run succeeded."}
    # the log still shows progress, on stderr
    assert "flow 'numbers': Failed" in done.stderr


def test_checkpointing_persists_results_that_result_read_shows(tmp_path: Path) -> None:
    write(tmp_path / "stored.py", """\
        from asyncflow import Flow, task
        from asyncflow.results import LocalResult

        @task
        def make():
            return {"rows": [1, 2, 3], "source": "cli"}

        with Flow("stored", result=LocalResult(dir="results")) as flow:
            make()
    """)

    on = run_cli("run", "stored.py", "--checkpointing", "--json", cwd=tmp_path)
    off = run_cli("run", "stored.py", "--no-checkpointing", "--json", cwd=tmp_path)

    assert on.returncode == off.returncode == 0, on.stderr
    (stored,) = json.loads(on.stdout)["tasks"]
    assert Path(stored["location"]).parent == tmp_path / "results"
    assert "location" not in json.loads(off.stdout)["tasks"][0]
    assert len(list((tmp_path / "results").iterdir())) == 1

    shown = run_cli("result", "read", stored["location"], cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "{'rows': [1, 2, 3], 'source': 'cli'}"


def test_timeout_ends_the_run_timed_out_with_exit_1(tmp_path: Path) -> None:
    write(tmp_path / "slow.py", """\
        import asyncio
        from asyncflow import Flow, task

        @task
        async def forever():
            await asyncio.Event().wait()

        with Flow("slow") as flow:
            forever()
    """)

    done = run_cli("run", "slow.py", "--timeout", "0.3", "--json", cwd=tmp_path)

    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["state"] == "TimedOut"
    assert report["tasks"][0]["state"] == "Cancelled"


def test_a_flow_from_an_importable_module(tmp_path: Path) -> None:
    write(tmp_path / "pipelines" / "__init__.py", "")
    write(tmp_path / "pipelines" / "nightly.py", NUMBERS_FLOW)

    done = run_cli("run", "pipelines.nightly:flow", "-p", "n=2", "--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["flow"] == "numbers"


def test_a_flow_file_can_import_its_neighbours(tmp_path: Path) -> None:
    write(tmp_path / "jobs" / "shared.py", "GREETING = 'hello from a neighbour'\n")
    write(tmp_path / "jobs" / "main.py", """\
        from asyncflow import Flow, task
        from shared import GREETING

        @task
        def greet():
            print(GREETING, flush=True)

        with Flow("greet") as flow:
            greet()
    """)

    done = run_cli("run", "jobs/main.py:flow", "--quiet", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello from a neighbour"


def test_a_reader_that_goes_away_does_not_break_the_run(tmp_path: Path) -> None:
    write(tmp_path / "counting.py", NUMBERS_FLOW)
    out = tmp_path / "total.json"
    reader, writer = os.pipe()
    os.close(reader)  # like `asyncflow run ... | head -0`
    try:
        done = subprocess.run([*CLI, "run", "counting.py", "-p", f"out={out}"], cwd=tmp_path,
                              stdout=writer, stderr=subprocess.PIPE, text=True, timeout=45,
                              check=False)
    finally:
        os.close(writer)

    assert done.returncode == 0, done.stderr
    assert out.read_text() == str(sum(x * x for x in range(5)))
