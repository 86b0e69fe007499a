"""The shared history: a PostgreSQL database through asyncpg, same schema as SQLite.

A small connection pool serves the store; migrations run under a transaction-scoped
advisory lock, so processes that start together migrate the database once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .._core._exceptions import MissingExtraError
from ._errors import HistoryError
from ._schema import POSTGRES
from ._store import HistoryStore, Row, display_url

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

#: Any constant works, as long as every asyncflow process uses the same one.
MIGRATION_LOCK_KEY = 0x61_73_79_6E_63_66  # "asyncf"
_PLACEHOLDER = re.compile(r"\?")


def _asyncpg() -> Any:
    try:
        return import_module("asyncpg")
    except ImportError:
        raise MissingExtraError("the run history on PostgreSQL", "history", "asyncpg") from None


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (the SQL here has no ``?`` literal)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


class _Conn:
    __slots__ = ("_conn",)

    def __init__(self, conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any]) -> None:
        self._conn = conn

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        await self._conn.execute(numbered(sql), *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(numbered(sql), rows)

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.fetch(numbered(sql), *args))


class PostgresStore(HistoryStore):
    """History in a PostgreSQL database (the schema is created on first use)."""

    dialect = POSTGRES

    def __init__(self, url: str, *, max_connections: int = 4) -> None:
        super().__init__(url)
        self.max_connections = max_connections
        self._pool: asyncpg.Pool[Any] | None = None

    async def connect(self) -> None:
        asyncpg = _asyncpg()
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.max_connections
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise HistoryError(
                f"cannot connect to the history database {display_url(self.url)}: {exc}; "
                "check that the server is up and the URL (history.url) is right"
            ) from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _connected(self) -> asyncpg.Pool[Any]:
        if self._pool is None:
            raise HistoryError(f"{self!r} is not connected; use `async with store:` first")
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Conn]:
        async with self._connected().acquire() as conn, conn.transaction():
            yield _Conn(conn)

    @asynccontextmanager
    async def migration(self) -> AsyncIterator[_Conn]:
        async with self.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
            yield conn

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        async with self._connected().acquire() as conn:
            return list(await conn.fetch(numbered(sql), *args))
