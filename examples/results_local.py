"""Persisting task results to local files: flow level, task level, a Task subclass, and
a templated location.

Run: python examples/results_local.py [results-dir]

``asyncflow run examples/results_local.py`` runs ``flow``, the flow-level example, with
results in the ``results.local_dir`` setting (``~/.asyncflow/results`` unless configured).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import cloudpickle

from asyncflow import Flow, Task, task
from asyncflow.results import LocalResult


@task
def add(x: int, y: int = 1) -> int:
    return x + y


class AddTask(Task[int]):
    def run(self, x: int, y: int) -> int:
        return x + y


def flow_level(results_dir: str | None) -> tuple[Flow, Task[Any], Task[Any]]:
    # Every task of the flow writes its result with the flow's Result.
    with Flow("my handled flow!", result=LocalResult(dir=results_dir)) as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)
    return flow, first_result, second_result


flow, _, _ = flow_level(None)


def task_level(results_dir: str) -> tuple[Flow, Task[Any]]:
    # A task's own Result wins over the flow's.
    a = AddTask(result=LocalResult(dir=results_dir))
    with Flow("my handled flow!") as flow:
        first_result = a(1, y=2)
        add(x=first_result, y=100)
    return flow, first_result


def templated(results_dir: str) -> tuple[Flow, Task[Any], Task[Any]]:
    @task(result=LocalResult(dir=results_dir, location="initial_data.prefect"))
    def root_task() -> list[int]:
        return [1, 2, 3]

    @task(result=LocalResult(dir=results_dir, location="{date:%A}/{task_name}.prefect"))
    def downstream_task(x: list[int]) -> list[int]:
        return [i * 10 for i in x]

    with Flow("local-results") as flow:
        root = root_task()
        down = downstream_task(root)
    return flow, root, down


def main(results_dir: str) -> None:
    handled, first, _second = flow_level(results_dir)
    state = handled.run_sync()
    location = state.result[first]._result.location
    print("flow-level:", state.result[first]._result.value, "at", location)
    print("  file content:", Path(location).read_bytes(), "->",
          cloudpickle.loads(Path(location).read_bytes()))

    handled, first = task_level(results_dir)
    state = handled.run_sync()
    print("task-level:", state.result[first]._result.location)

    local, root, down = templated(results_dir)
    state = local.run_sync()
    print("templated:", state.result[root]._result.location, "and",
          state.result[down]._result.location)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="asyncflow-results-"))
