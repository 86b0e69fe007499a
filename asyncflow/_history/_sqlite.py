"""The embedded history: one SQLite file through aiosqlite, in WAL mode.

WAL lets the dashboard read while a run writes, and every batch is one transaction, so a
process killed mid-write loses that batch and nothing else. ``synchronous=NORMAL`` keeps
commits cheap: committed transactions survive a crash of the process (a power cut may
lose the last ones, never the file's integrity). One connection serves one store; its
statements are serialised with a lock, so a transaction is never interleaved with another
coroutine's statements.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._core._exceptions import MissingExtraError
from ._errors import HistoryError
from ._schema import SQLITE
from ._store import HistoryStore, Row

if TYPE_CHECKING:
    import aiosqlite

BUSY_TIMEOUT_MS = 10_000
#: Bound parameters per statement: SQLite's default SQLITE_MAX_VARIABLE_NUMBER (32766
#: since 3.32, 999 before). Fewer, larger statements cost far less per row.
MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


@functools.lru_cache(maxsize=16)
def _chunk_sizes(width: int) -> tuple[int, ...]:
    """Rows per INSERT statement, largest first, ending with 1."""
    return tuple(n for n in (512, 64, 8, 1) if n * width <= MAX_VARIABLES or n == 1)


@functools.lru_cache(maxsize=32)
def _insert_sql(table: str, columns: str, width: int, rows: int) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * rows)


def _aiosqlite() -> Any:
    try:
        return import_module("aiosqlite")
    except ImportError:
        raise MissingExtraError("the run history", "history", "aiosqlite") from None


class _Conn:
    __slots__ = ("_db",)

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        await self._db.execute(sql, args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._db.executemany(sql, rows)

    async def insert(self, table: str, columns: str, flat: Sequence[Any]) -> None:
        # Many rows per INSERT cost far less per row than one statement per row. The
        # statements come in a few fixed sizes, so SQLite prepares each size once.
        width = columns.count(",") + 1
        start, end = 0, len(flat)
        for per in _chunk_sizes(width):
            step = per * width
            count = (end - start) // step
            if count:
                await self._db.executemany(
                    _insert_sql(table, columns, width, per),
                    [flat[i:i + step] for i in range(start, start + count * step, step)],
                )
                start += count * step

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(await self._db.execute_fetchall(sql, args))


class SQLiteStore(HistoryStore):
    """History in a SQLite file (created, with its directory, on first use)."""

    dialect = SQLITE

    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock: asyncio.Lock | None = None

    async def connect(self) -> None:
        aiosqlite = _aiosqlite()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(
                f"cannot open the history database {str(self.path)!r}: {exc}; check that "
                "its directory is writable, or set history.url to another file"
            ) from exc
        try:
            await db.executescript(
                f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; "
                "PRAGMA synchronous = NORMAL;"
            )
        except sqlite3.Error as exc:
            await db.close()
            raise HistoryError(
                f"{str(self.path)!r} cannot be used as a history database: {exc}"
            ) from exc
        self._db = db
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    def _connected(self) -> tuple[aiosqlite.Connection, asyncio.Lock]:
        if self._db is None or self._lock is None:
            raise HistoryError(f"{self!r} is not connected; use `async with store:` first")
        return self._db, self._lock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Conn]:
        db, lock = self._connected()
        async with lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _Conn(db)
            except BaseException:
                await asyncio.shield(db.rollback())
                raise
            await db.commit()

    def migration(self) -> Any:
        # BEGIN IMMEDIATE takes the write lock: two processes never migrate at once.
        return self.transaction()

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        db, lock = self._connected()
        async with lock:
            return list(await db.execute_fetchall(sql, args))
