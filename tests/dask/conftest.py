"""Real Dask clusters for the executor tests, started once per test session.

``process_cluster``: a scheduler in this process and two worker processes (one thread
each), on 127.0.0.1. ``thread_cluster``: scheduler and two workers in this process, also
over TCP on 127.0.0.1. Both run their own event loop in a background thread, so each test
connects with ``DaskExecutor(address=...)`` from its own loop, as a user would connect to
a running cluster. ``cluster`` is parametrized over both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from distributed import LocalCluster

from tests.dask.helpers import dd

COMMON: dict[str, Any] = {
    "n_workers": 2,
    "threads_per_worker": 1,
    "host": "127.0.0.1",
    # A free port: the default 8787 may be taken, and distributed warns about it.
    "dashboard_address": ":0",
}


@pytest.fixture(scope="session")
def process_cluster() -> Iterator[LocalCluster]:
    with dd.LocalCluster(processes=True, **COMMON) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def thread_cluster() -> Iterator[LocalCluster]:
    # processes=False defaults to the in-process transport, which has no host; ask for TCP.
    with dd.LocalCluster(processes=False, protocol="tcp", **COMMON) as cluster:
        yield cluster


@pytest.fixture(params=["processes", "threads"])
def cluster(request: pytest.FixtureRequest) -> LocalCluster:
    """Each test using it runs on both clusters."""
    name = "process_cluster" if request.param == "processes" else "thread_cluster"
    found: LocalCluster = request.getfixturevalue(name)
    return found


@pytest.fixture
def address(cluster: LocalCluster) -> str:
    return str(cluster.scheduler_address)
