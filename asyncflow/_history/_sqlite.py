"""The embedded history: one SQLite file through aiosqlite, in WAL mode.

WAL lets the dashboard read while a run writes, and every batch is one transaction, so a
process killed mid-write loses that batch and nothing else. ``synchronous=NORMAL`` keeps
commits cheap: committed transactions survive a crash of the process (a power cut may
lose the last ones, never the file's integrity).

Recording writes through the loop's own connection when it can (see :mod:`._appender`),
and through aiosqlite when another writer holds the file; queries always go through
aiosqlite, whose connection is opened on first use. Its statements are serialised with a
lock, so a transaction is never interleaved with another coroutine's statements.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._core._exceptions import MissingExtraError
from ._appender import CHECKPOINT_BYTES, Appender, appender_for
from ._errors import HistoryError
from ._schema import SQLITE
from ._store import HistoryStore, Row

if TYPE_CHECKING:
    import aiosqlite

#: How long a write waits for another process's write lock before it gives up (and the
#: recorder logs what was not recorded). SQLite retries meanwhile, backing off to 100 ms.
LOCK_WAIT_SECONDS = 30.0
BUSY_TIMEOUT_MS = int(LOCK_WAIT_SECONDS * 1000)


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
        self._opening: asyncio.Lock | None = None
        self._appender: Appender | None = None

    async def connect(self) -> None:
        _aiosqlite()  # a missing extra is reported now, not at the first query
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._cannot_open(exc) from exc
        self._lock = asyncio.Lock()
        self._opening = asyncio.Lock()
        try:
            self._appender = appender_for(self.path)
        except sqlite3.Error:  # aiosqlite says what is wrong, or copes (a busy file)
            self._appender = None
            await self._database()

    def _cannot_open(self, exc: BaseException) -> HistoryError:
        return HistoryError(
            f"cannot open the history database {str(self.path)!r}: {exc}; check that "
            "its directory is writable, or set history.url to another file"
        )

    async def _database(self) -> aiosqlite.Connection:
        """The aiosqlite connection, opened on first use."""
        if self._db is not None:
            return self._db
        if self._opening is None:
            raise HistoryError(f"{self!r} is not connected; use `async with store:` first")
        async with self._opening:
            if self._db is None:
                self._db = await self._open_database()
        return self._db

    async def _open_database(self) -> aiosqlite.Connection:
        module = _aiosqlite()
        try:
            db: aiosqlite.Connection = await module.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._cannot_open(exc) from exc
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
        return db

    async def close(self) -> None:
        appender, self._appender = self._appender, None
        try:
            if appender is not None and appender.written >= CHECKPOINT_BYTES:
                appender.written = 0
                await self.fetch("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db, self._db = self._db, None
            self._lock = self._opening = None
            if db is not None:
                await db.close()

    async def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Row]:
        appender = self._appender
        if appender is not None:
            rows = appender.write(statements)
            if rows is not None:
                return rows
        return await super()._write(statements)

    async def read_small(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        appender = self._appender
        if appender is not None:
            rows = appender.read(sql, args)
            if rows is not None:
                return rows
        return await self.fetch(sql, args)

    def _lock_or_fail(self) -> asyncio.Lock:
        if self._lock is None:
            raise HistoryError(f"{self!r} is not connected; use `async with store:` first")
        return self._lock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Conn]:
        lock = self._lock_or_fail()
        db = await self._database()
        async with lock:
            try:
                await db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                raise HistoryError(
                    f"the history database {str(self.path)!r} stayed locked by another "
                    f"connection for over {BUSY_TIMEOUT_MS / 1000:g}s ({exc})"
                ) from exc
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
        lock = self._lock_or_fail()
        db = await self._database()
        async with lock:
            return list(await db.execute_fetchall(sql, args))
