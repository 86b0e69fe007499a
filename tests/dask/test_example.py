"""The Dask example runs against a running cluster, given its address."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from distributed import LocalCluster

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dask_flow.py"


@pytest.mark.anyio
async def test_example_uses_a_running_scheduler(thread_cluster: LocalCluster) -> None:
    with anyio.fail_after(50):
        done = await anyio.run_process(
            [sys.executable, str(EXAMPLE), thread_cluster.scheduler_address])
    out = done.stdout.decode()
    assert 'flow: <Success: "All reference tasks succeeded.">' in out
    # The in-process cluster's workers are threads of the test process: one process.
    assert "77031 takes 350 steps (worker processes used: 1)" in out
