"""State handlers on a flow and on a task, printing every transition.

Run: python examples/state_handler_demo.py

``asyncflow run examples/state_handler_demo.py`` runs ``flow``: one task, with the
handler on the flow and on the task.
"""

from __future__ import annotations

from typing import Any

from asyncflow import Flow, Task
from asyncflow.states import State


def my_state_handler(obj: Any, old_state: State, new_state: State) -> State:
    msg = "\nCalling my custom state handler on {0}:\n{1} to {2}\n"
    print(msg.format(obj, old_state, new_state))
    return new_state


flow = Flow(name="state-handler-demo", tasks=[Task(state_handlers=[my_state_handler])],
            state_handlers=[my_state_handler])


def main() -> None:
    # Attached to the flow: the flow's own transitions.
    my_flow = Flow(name="state-handler-demo", tasks=[Task()], state_handlers=[my_state_handler])
    my_flow.run_sync()

    # Attached to a task: the task's transitions.
    t = Task(state_handlers=[my_state_handler])
    task_flow = Flow(name="state-handler-demo", tasks=[t])
    task_flow.run_sync()


if __name__ == "__main__":
    main()
