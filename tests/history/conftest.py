"""Fixtures for the history tests: a SQLite file, and a PostgreSQL server.

``history_url`` runs a test against each database: a SQLite file, and a fresh schema of a
PostgreSQL server started once for the session from the system's binaries (Debian's
``postgresql`` package, installed by the fixture when missing and running as root).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.history.postgres import find_binaries, postgres_server
from tests.servers.debian import ensure_package


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture(scope="session")
def postgres_root_url() -> Iterator[str]:
    bindir = find_binaries()
    if bindir is None:
        ensure_package("postgresql", False)
        bindir = find_binaries()
        assert bindir is not None, "postgresql was installed but initdb/pg_ctl are not found"
    with postgres_server(bindir) as url:
        yield url


@pytest.fixture
async def postgres_url(postgres_root_url: str) -> AsyncIterator[str]:
    """A URL whose connections use a schema of their own (asyncpg passes unknown query
    parameters on as server settings)."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres_root_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    yield f"{postgres_root_url}?search_path={schema}"
    conn = await asyncpg.connect(postgres_root_url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def history_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
