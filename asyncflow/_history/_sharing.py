"""One recorder per event loop and database, shared by every run that names the database.

``flow.run(history="sqlite:///...")`` names a database, not a recorder. Runs on one event
loop that name the same database (the same file, however its URL spells the path, or
the same PostgreSQL URL) share one :class:`~._recorder.Recorder`: one writer, one SQLite
connection or one PostgreSQL pool, however many runs are recording at once. A thousand
runs each with a recorder of their own would each open the database and migrate it, and
wait for each other's write locks until some gave up.

The shared recorder connects when its first run starts and stops its writer and
disconnects when its last run ends (the recorder counts its runs), so nothing of it runs
once the last ``flow.run`` has returned. At that moment it also leaves this registry: the
next run makes a new one. The registry holds its loops weakly, so a loop that was closed
and dropped takes its entries with it.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Hashable

from ._recorder import Recorder
from ._store import sqlite_path

_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, Recorder]] = (
    weakref.WeakKeyDictionary()
)


def database_key(url: str) -> Hashable:
    """What identifies the database ``url`` names: a SQLite file's absolute path, or the URL."""
    if url.startswith("sqlite:///"):
        return ("sqlite", os.path.abspath(sqlite_path(url)))
    return url


def shared_recorder(url: str) -> Recorder:
    """The running loop's recorder for the database ``url`` names, made on first use.

    Outside a running loop (nothing to share with) this is a recorder of its own.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return Recorder(url)
    key = database_key(url)
    recorders = _by_loop.setdefault(loop, {})
    recorder = recorders.get(key)
    if recorder is None:
        recorder = recorders[key] = Recorder(url)

        def forget() -> None:
            if recorders.get(key) is recorder:
                del recorders[key]

        recorder._on_idle = forget
    return recorder
