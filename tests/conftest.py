"""Shared fixtures: every async test runs on asyncio through the anyio plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asyncflow._core import _cache_store


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's own config file or results directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ASYNCFLOW__USER_CONFIG_PATH", str(home / "config.toml"))
    monkeypatch.setenv("ASYNCFLOW__RESULTS__LOCAL_DIR", str(home / "results"))
    monkeypatch.setenv("HOME", str(home))
    _cache_store.clear()
    yield
    _cache_store.clear()
