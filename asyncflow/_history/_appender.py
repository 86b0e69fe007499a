"""The event loop's own connection to a SQLite history file, for recording.

Recording through aiosqlite costs a round trip to its thread for every statement, and
while a busy run holds the interpreter's lock that thread waits its turn, so a write
that takes a tenth of a millisecond can take a hundred. In WAL mode, with
``synchronous=NORMAL``, a commit only appends to the WAL (no fsync), so the recorder
writes from the loop's thread instead, through this connection, which is made so that
it cannot block:

- its busy timeout is 0: when another connection holds the write lock, the write is
  refused at once (nothing written) and the store sends it through aiosqlite, which
  waits;
- it never checkpoints (``wal_autocheckpoint=0``); the store checkpoints through
  aiosqlite once a few megabytes have been written.

One connection per file and thread, kept open between runs: closing the last connection
to a database checkpoints it, with an fsync, which would cost every run several
milliseconds. Each reuse checks that the path still names the same file, so a history
file deleted or replaced meanwhile is opened afresh. Each thread keeps at most :data:`MAX_OPEN` of them; a process that forks
opens new ones (a SQLite connection must not cross a fork).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Files a thread keeps a connection to (the least recently used one is closed).
MAX_OPEN = 4
#: WAL bytes written through these connections after which the store checkpoints.
CHECKPOINT_BYTES = 8 << 20


class Appender:
    """A connection that writes now or not at all (see the module's doc)."""

    __slots__ = ("conn", "file", "written")

    def __init__(self, path: Path) -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.executescript(
                "PRAGMA busy_timeout = 0; PRAGMA synchronous = NORMAL; "
                "PRAGMA wal_autocheckpoint = 0;"
            )
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode != "wal":
                raise sqlite3.OperationalError(f"journal mode is {mode}, not wal")
            self.file = _identity(path)
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        #: Bytes of data written since the file was last checkpointed (an estimate).
        self.written = 0

    def write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any] | None:
        """Run ``statements`` in one transaction; the last one's rows, or None (having
        written nothing) when another connection holds the write lock."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # busy (or locked): let the caller wait for it
            return None
        rows: list[Any] = []
        try:
            for sql, args in statements:
                rows = conn.execute(sql, args).fetchall()
                self.written += sum(len(a) for a in args if isinstance(a, str))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return rows

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Any] | None:
        """The rows of a small query, or None if the database is busy."""
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise


def _identity(path: Path) -> tuple[int, int]:
    """Which file ``path`` names now: a file deleted or replaced since the connection
    was opened must not go on receiving the history (nobody would ever read it)."""
    found = os.stat(path)
    return found.st_dev, found.st_ino


class _Open(threading.local):
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.by_path: OrderedDict[Path, Appender] = OrderedDict()


_open = _Open()


def appender_for(path: Path) -> Appender:
    """This thread's connection to ``path``, opened if needed (sqlite3.Error if it cannot
    be: the caller then goes through aiosqlite, which reports why)."""
    if _open.pid != os.getpid():  # forked: the parent's connections are not ours
        _open.pid = os.getpid()
        _open.by_path = OrderedDict()
    by_path = _open.by_path
    found = by_path.get(path)
    if found is not None:
        try:
            same = _identity(path) == found.file
        except OSError:  # deleted since: start a new file, as a new connection would
            same = False
        if same:
            by_path.move_to_end(path)
            return found
        del by_path[path]
        found.conn.close()
    appender = by_path[path] = Appender(path)
    while len(by_path) > MAX_OPEN:
        _, oldest = by_path.popitem(last=False)
        oldest.conn.close()
    return appender
