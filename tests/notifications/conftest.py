"""Fixtures for notifier tests: a fake Slack, a fake flow run, a clean environment."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from asyncflow._core._context import FlowRunContext, flow_run_var
from asyncflow._core._resources import RunResources
from tests.servers.slack import FakeSlack
from tests.servers.tls import TLSFiles, self_signed


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No secret or setting from the developer's machine; fast backoff for retry tests."""
    for name in list(os.environ):
        if name.startswith("ASYNCFLOW__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ASYNCFLOW__USER_CONFIG_PATH", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("ASYNCFLOW__NOTIFICATIONS__BACKOFF", "0.01")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def flow_run() -> AsyncIterator[FlowRunContext]:
    """A flow run context as the engine makes it, without the engine: resources closed after."""
    run = FlowRunContext(
        values={"flow_name": "nightly", "flow_run_id": "run-1", "secrets": {}},
        resources=RunResources(),
        flow=None,
    )
    token = flow_run_var.set(run)
    try:
        yield run
    finally:
        flow_run_var.reset(token)
        await run.resources.aclose()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))
