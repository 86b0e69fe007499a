"""Every example runs, and does what its docstring says."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.append(str(EXAMPLES))  # examples import their local helpers as scripts do
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_runs_from_the_command_line(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert 'flow: Success("All reference tasks succeeded.")' in out
    assert "Retrying task run (attempt 2 of 4)" in out
    assert "summary: {'cities': 5, 'mean': 22.5, 'warmest': 'Lisbon'}" in out
    assert len(list(tmp_path.iterdir())) == 1 + 5 + 1  # cities, 5 temperatures, summary


def test_state_handler_demo_prints_the_seeds_transitions(capsys: pytest.CaptureFixture[str]) -> None:
    load("state_handler_demo").main()
    out = capsys.readouterr().out
    expected = [
        "Calling my custom state handler on <Flow: name=state-handler-demo>:\n"
        'Scheduled() to Running("Running flow.")',
        "Calling my custom state handler on <Flow: name=state-handler-demo>:\n"
        'Running("Running flow.") to Success("All reference tasks succeeded.")',
        "Calling my custom state handler on <Task: Task>:\n"
        'Pending() to Running("Starting task run.")',
        "Calling my custom state handler on <Task: Task>:\n"
        'Running("Starting task run.") to Success("Task run succeeded.")',
    ]
    positions = [out.index(block) for block in expected]
    assert positions == sorted(positions)


def test_special_failure(capsys: pytest.CaptureFixture[str]) -> None:
    state = load("special_failure").build().run_sync()
    assert not state.is_successful()
    assert capsys.readouterr().out == "Special failure mode!  Send all the alerts!\na == b == 1\n"


def test_multiple_handlers_in_order() -> None:
    module = load("multiple_handlers")
    state = module.build().run_sync()
    assert state.is_successful()
    assert module.calls[0] == "log: flaky failed: Error during execution of task: " \
                              "ConnectionError('upstream went away')"
    assert module.calls[1].startswith("page: flaky is retrying at ")
    assert len(module.calls) == 2


def test_callback_factory_and_on_failure() -> None:
    module = load("callbacks")
    module.build().run_sync()
    assert module.sent[0].startswith("<Task: always_fails> failed: Error during execution")
    assert module.sent[1].startswith("Task <Task: always_fails> failed and is retrying at ")
    assert module.sent[-1] == "<Flow: name=callbacks> failed: Some reference tasks failed."


@pytest.mark.anyio
async def test_io_pipeline(tmp_path: Path) -> None:
    out = await load("io_pipeline").main(120, str(tmp_path))
    assert out["state"].is_successful()
    assert out["pages"] == 120
    assert out["retried"] == len(range(0, 120, 7))
    assert sum(out["merged"].values()) == 120 * 50
    assert await anyio.Path(out["location"]).is_file()


@pytest.mark.anyio
async def test_scheduled_flow(capsys: pytest.CaptureFixture[str]) -> None:
    state = await load("scheduled_flow").main(every=0.05, times=3)
    assert state.is_successful()
    assert capsys.readouterr().out.count("run scheduled for") == 3


def slack_transitions(received: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every ``(name, state)`` the Slack messages tell of, single or folded into a digest."""
    found: list[tuple[str, str]] = []
    for payload in received:
        single = re.fullmatch(r"`(.+)` is now in a `(\w+)` state", str(payload.get("text")))
        if single:
            found.append((single[1], single[2]))
        elif "state changes in flow" in str(payload.get("text")):
            for line in payload["blocks"][1]["text"]["text"].splitlines():
                folded = re.match(r"\u2022 `(.+)` \u2192 `(\w+)`", line)
                if folded:
                    found.append((folded[1], folded[2]))
    return found


@pytest.mark.anyio
async def test_slack_alerts_against_the_local_stand_in(capsys: pytest.CaptureFixture[str]) -> None:
    state, received = await load("slack_alerts").main()
    texts = [p.get("text") for p in received]
    assert not state.is_successful()
    assert any(str(t).startswith("Task <Task: flaky_download> failed and is retrying at ")
               for t in texts)
    # How the alerts are grouped depends on timing (those queued while Slack's interval
    # runs arrive as one digest); which transitions arrive, and their order, does not.
    transitions = slack_transitions(received)
    assert ("slack-alerts", "Running") in transitions
    assert transitions.index(("flaky_download", "Retrying")) < transitions.index(
        ("flaky_download", "Success"))
    assert ("mission_critical_task", "Failed") in transitions
    assert "Special failure mode in mission_critical_task! a == b == 1" in capsys.readouterr().out


@pytest.mark.anyio
async def test_webhook_alerts() -> None:
    state, received = await load("webhook_alerts").main()
    assert not state.is_successful()
    assert [(e["old_state"], e["new_state"]) for e in received] == [
        ("Running", "Failed"), ("Failed", "Retrying"), ("Running", "Failed")]
    assert all(e["event"] == "state_change" for e in received)


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
async def test_email_alerts() -> None:
    state, mails = await load("email_alerts").main()
    assert not state.is_successful()
    subjects = sorted(m.message["Subject"] for m in mails)
    assert subjects == ["[asyncflow] flow month-end: Failed", "[asyncflow] task reconcile: Failed"]


def test_results_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load("results_local").main(str(tmp_path))
    out = capsys.readouterr().out
    assert "file content: b'\\x80\\x05K\\x03.' -> 3" in out
    assert (tmp_path / "initial_data.prefect").is_file()
    assert len(list(tmp_path.glob("*/downstream_task.prefect"))) == 1


def test_results_json() -> None:
    state = load("results_json").main()
    (first,) = [t for t in state.result if t.slug == "add-1"]
    assert state.result[first]._result.location == "3"


def test_result_handlers(tmp_path: Path) -> None:
    shown = load("result_handlers").main(str(tmp_path))
    assert shown[0].startswith(f"<SafeResult: '{tmp_path}/")
    assert shown[2:] == ["3", "<SafeResult: '3'>"]


#: Every example as ``asyncflow run`` runs it: (target, extra arguments, the flow's final
#: state, a piece of the output). No account is needed: the alert examples print their
#: alerts, the storage examples keep results in memory (see each example's docstring).
CLI_RUNS: dict[str, tuple[list[str], str, str]] = {
    "quickstart": (["-p", "n=3"], "Success", "Retrying task run (attempt 2 of 4)"),
    "callbacks": ([], "Failed", '"always_fails-1"'),
    "special_failure": ([], "Failed", "Special failure mode!  Send all the alerts!"),
    "state_handler_demo": ([], "Success", 'Scheduled() to Running("Running flow.")'),
    "multiple_handlers": ([], "Success", '"flaky-1"'),
    "results_json": ([], "Success", '"location": "103"'),
    "result_handlers": ([], "Success", '"location": "103"'),
    "results_local": ([], "Success", '"add-2"'),
    "scheduled_flow": ([], "Success", "run scheduled for"),
    "io_pipeline": (["-p", "n_pages=30"], "Success", '"LocalPages.cleanup"'),
    "dask_flow": (["-p", "limit=3000", "-p", "parts=3"], "Success", '"summarize-1"'),
    "history_dashboard": ([], "Success", '"load-1"'),
    "slack_alerts": ([], "Failed", "[not sent: no SLACK_WEBHOOK_URL configured] "
                                   "flaky_download: Failed -> Retrying"),
    "webhook_alerts": ([], "Failed", "[not sent: no OPS_WEBHOOK configured] "
                                     "load_table: Running -> Failed"),
    "email_alerts": ([], "Failed", "[not sent: no SMTP_HOST configured] month-end: "
                                   "Running -> Failed"),
    "s3_results": ([], "Success", '"add-2"'),
    "gcs_results": ([], "Success", '"add-2"'),
    "aiohttp_service:word_stats": (["-p", "text=to be or not to be"], "Success",
                                   '"location": "6"'),
    "dashboard_actions": (["-p", "day=2026-12-04", "-p", "count=2"], "Success",
                          '\\"with_vat\\": 45.0'),
}

#: Settings that would send the examples to real accounts; the CLI runs go without them.
_ACCOUNT_SETTINGS = ("ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL",
                     "ASYNCFLOW__CONTEXT__SECRETS__OPS_WEBHOOK", "SMTP_HOST",
                     "ASYNCFLOW_EXAMPLE_S3_BUCKET", "ASYNCFLOW_EXAMPLE_GCS_BUCKET",
                     "STORAGE_EMULATOR_HOST", "ASYNCFLOW__HISTORY__URL")


def test_every_example_has_a_command_line_run() -> None:
    examples = {p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert examples == {target.partition(":")[0] for target in CLI_RUNS}


@pytest.mark.parametrize("target", sorted(CLI_RUNS))
def test_example_runs_with_the_command_line(target: str, tmp_path: Path) -> None:
    arguments, final_state, piece = CLI_RUNS[target]
    temporary = tmp_path / "tmp"
    workdir = tmp_path / "work"
    temporary.mkdir()
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in _ACCOUNT_SETTINGS}
    env.update(TMPDIR=str(temporary), PYTHONPATH=str(EXAMPLES.parent))
    name, _, variable = target.partition(":")
    flow = str(EXAMPLES / f"{name}.py") + (f":{variable}" if variable else "")
    done = subprocess.run(
        [sys.executable, "-m", "asyncflow.cli", "run", flow, "--json", "-q", *arguments],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120,
    )
    out = done.stdout
    assert "\n{\n" in f"\n{out}", done.stdout + done.stderr
    report = json.loads(out[out.index("{\n") if out.startswith("{") else out.index("\n{\n"):])
    assert report["state"] == final_state, done.stdout + done.stderr
    assert done.returncode == (0 if final_state == "Success" else 1), done.stderr
    assert piece in out, out
    assert list(temporary.iterdir()) == []  # nothing left in the temporary folder
    assert list(workdir.iterdir()) == []  # nor where the command ran
