"""History URLs: the default, how one is shown without its password, the SQLite file
one names, and the store that serves it."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from .._core._exceptions import ConfigError

if TYPE_CHECKING:
    from ._store import HistoryStore

#: Where history goes when it is switched on without a URL.
DEFAULT_URL = "sqlite:///~/.asyncflow/history.db"


def display_url(url: str) -> str:
    """``url`` with its password hidden, fit for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names (three slashes: relative; four: absolute)."""
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    if not rest or rest == ":memory:":
        raise ConfigError(
            f"history URL {url!r} names no file; the history must outlive the process, so "
            "use a file such as sqlite:///~/.asyncflow/history.db"
        )
    return Path(urllib.parse.unquote(rest)).expanduser()


def store_for(url: str) -> HistoryStore:
    """A store for ``url`` (not connected yet)."""
    if not isinstance(url, str):
        raise ConfigError(f"a history URL must be a string, not {type(url).__name__}")
    if url.startswith("sqlite:///"):
        from ._sqlite import SQLiteStore

        return SQLiteStore(url, sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(
        f"history URL {display_url(url)!r} is not supported; use sqlite:///path/history.db "
        "(sqlite:////abs/path.db for an absolute path) or postgresql://user@host/dbname"
    )
