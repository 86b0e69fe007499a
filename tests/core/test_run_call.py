"""What ``flow.run()`` returns: a coroutine that asyncio's own entry points accept."""

from __future__ import annotations

import asyncio

from asyncflow import Flow, task
from asyncflow.states import Success


@task
def one() -> int:
    return 1


def test_asyncio_run_takes_flow_run() -> None:
    """asyncio looks at ``cr_code`` of what it runs; that must not read as a misused State."""
    with Flow("plain") as flow:
        result = one()
    state = asyncio.run(flow.run())
    assert isinstance(state, Success)
    assert state.result[result].result == 1
