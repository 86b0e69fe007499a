"""The result-handler code of older tutorials still runs: each handler is turned into the
matching Result (with a DeprecationWarning), and ``safe_value`` shows the stored key.

Run: python -W default examples/result_handlers.py [results-dir]

``asyncflow run examples/result_handlers.py`` runs ``flow``, whose JSONResultHandler keeps
each value as JSON text in its state: nothing is written to disk.
"""

from __future__ import annotations

import sys
import tempfile
import warnings

from asyncflow import Flow, Task, task
from asyncflow.result_handlers import JSONResultHandler, LocalResultHandler


@task
def add(x: int, y: int = 1) -> int:
    return x + y


class AddTask(Task[int]):
    def run(self, x: int, y: int) -> int:
        return x + y


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with Flow("my handled flow!", result_handler=JSONResultHandler()) as flow:
        add(x=add(1, y=2), y=100)


def main(results_dir: str) -> list[str]:
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # send the configuration to the Flow object
        with Flow("my handled flow!",
                  result_handler=LocalResultHandler(results_dir)) as handled:
            first_result = add(1, y=2)
            second_result = add(x=first_result, y=100)
        state = handled.run_sync()
        shown.append(repr(state.result[first_result]._result.safe_value))
        shown.append(repr(state.result[second_result]._result.safe_value))

        # or when instantiating a Task object
        a = AddTask(result_handler=LocalResultHandler(results_dir))
        with Flow("my handled flow!"):
            a(1, y=2)

        with Flow("my handled flow!", result_handler=JSONResultHandler()) as as_json:
            first_result = add(1, y=2)
        state = as_json.run_sync()
        shown.append(repr(state.result[first_result]._result.value))
        shown.append(repr(state.result[first_result]._result.safe_value))
    for line in shown:
        print(line)
    return shown


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="asyncflow-handlers-"))
