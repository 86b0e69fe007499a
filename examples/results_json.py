"""JSONResult: the JSON text of a small value is its location, visible wherever states
are shown (Prefect's PrefectResult; that name works too). Parameters use it.

Run: python examples/results_json.py   (or: asyncflow run examples/results_json.py)
"""

from __future__ import annotations

from asyncflow import Flow, task
from asyncflow.results import JSONResult
from asyncflow.states import State


@task
def add(x: int, y: int = 1) -> int:
    return x + y


with Flow("my handled flow!", result=JSONResult()) as flow:
    first_result = add(1, y=2)
    add(x=first_result, y=100)


def main() -> State:
    state = flow.run_sync()
    print(repr(state.result[first_result]._result.value))     # 3
    print(repr(state.result[first_result]._result.location))  # '3'
    return state


if __name__ == "__main__":
    main()
