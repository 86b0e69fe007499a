"""LocalResult: results stored as files in a local directory.

Writes are atomic and durable: the bytes go to a file with no name yet (``O_TMPFILE`` on
Linux; elsewhere a temporary file next to the target), are flushed to disk (``fsync``),
and only then get the final name (a link, or a rename over an existing file), after
which the directory is flushed too (as is every directory the write had to create). A
crash therefore leaves either the old file or the complete new one, never a truncated
result, and a location returned by ``write`` names bytes that are on disk.

Each write or read is one worker-thread call (see ``_offload``) that does all of its
system calls, rather than one thread hop per call, and pickles stream straight into and
out of the file: that is what keeps many small results, and large ones, fast.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable
from typing import IO, Any, ClassVar

from typing_extensions import Self

from .._core._config import load_config
from .._core._exceptions import (
    ResultError,
    ResultNotFoundError,
    ResultReadError,
    ResultWriteError,
)
from .._serializers._base import Serializer
from .._serializers._pickle import PickleSerializer, dump_into, load_from
from ._base import Result
from ._location import (
    Location,
    confine_path,
    format_location,
    local_default_location,
    resolve_inside,
)
from ._offload import run_sync

DEFAULT_DIR = "~/.asyncflow/results"

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_TEMP_FLAGS |= getattr(os, "O_BINARY", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_MAX_NAME_IN_TEMP = 200
# Check access with the ids (and capabilities) that writes will actually use.
_EFFECTIVE_IDS = os.access in os.supports_effective_ids


class LocalResult(Result):
    """Stores each value as a file under ``dir`` (default ``~/.asyncflow/results``).

    ``dir`` defaults to the ``results.local_dir`` setting; with ``validate_dir`` (the
    default) it is created if missing and checked to be a writable directory. Relative
    locations are joined to ``dir``; ``write`` stores the absolute path as ``location``.
    A location template or callable must fill in to a path relative to ``dir``, and no
    symbolic link under ``dir`` may lead a write or read outside it (see ``_location``).
    """

    __slots__ = ("dir", "validate_dir")

    persists: ClassVar[bool] = True

    dir: str
    validate_dir: bool

    def __init__(
        self,
        dir: str | os.PathLike[str] | None = None,  # noqa: A002 - the documented keyword
        validate_dir: bool = True,
        location: Location = None,
        serializer: Serializer | None = None,
        *,
        value: Any = None,
    ) -> None:
        super().__init__(value, location, serializer)
        if dir is None:
            dir = load_config().get_path("results.local_dir") or DEFAULT_DIR  # noqa: A001
        self.dir = os.path.abspath(os.path.expanduser(os.fspath(dir)))
        self.validate_dir = validate_dir
        if validate_dir:
            _check_dir(self.dir)

    @property
    def default_location(self) -> str:
        """``asyncflow-result-<UTC timestamp>-<random>``, a file directly in ``dir``."""
        return local_default_location()

    def _format_location(self, location: str | Callable[..., str], kwargs: Any) -> str:
        return format_location(
            location, kwargs, owner=self._owner(), within=f"the result dir {self.dir!r}"
        )

    def path_of(self, location: str | os.PathLike[str]) -> str:
        """The absolute path of ``location`` (relative locations are joined to ``dir``)."""
        return confine_path(self.dir, os.fspath(location), owner=self._owner())

    async def write(self, value: Any, **kwargs: Any) -> Self:
        """Serialize ``value`` and store it atomically; the new Result's location is the path."""
        new = self.format(**kwargs)
        path = self.path_of(new.location)  # type: ignore[arg-type]  # format() made it a str
        await run_sync(_write_value, self, value, path)
        new.value = value
        new.location = path
        return new

    async def read(self, location: str | os.PathLike[str]) -> Self:
        """A new Result whose value is read from the file at ``location``."""
        path = self.path_of(location)
        new = self.copy()
        new.value = await run_sync(_read_value, self, path)
        new.location = path
        return new

    async def exists(self, location: str | os.PathLike[str], **kwargs: Any) -> bool:
        """Whether a file is stored at ``location`` (a template filled in from ``kwargs``)."""
        filled = self._format_location(os.fspath(location), kwargs)
        return await run_sync(_is_stored, self, self.path_of(filled))


# ---- the blocking parts, each run in one worker thread ----------------------------------


def _check_dir(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ResultError(
            f"LocalResult dir {path!r} is a file (or is inside one), not a directory; pass "
            "dir= a directory path, which is created if missing"
        ) from None
    except OSError as exc:
        raise ResultError(
            f"LocalResult cannot create the dir {path!r}: {exc.strerror or exc}. Choose a dir= "
            "the user running asyncflow can write to"
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE_IDS):
        raise ResultError(
            f"LocalResult dir {path!r} is not writable by the user running asyncflow; grant "
            "write permission (e.g. chmod u+w) or choose another dir="
        )


def _is_stored(result: LocalResult, path: str) -> bool:
    real = resolve_inside(result.dir, path, owner=type(result).__name__, follow_last=True)
    return os.path.isfile(real)


def _write_value(result: LocalResult, value: Any, path: str) -> None:
    real = resolve_inside(result.dir, path, owner=type(result).__name__, follow_last=False)
    fill: Callable[[IO[bytes]], object]
    if type(result.serializer) is PickleSerializer:

        def fill(file: IO[bytes]) -> None:
            try:
                dump_into(value, file)
            except OSError:
                raise
            except Exception as exc:
                raise result._serialization_error(value, path, exc) from exc

    else:
        data = result._serialize(value, path)

        def fill(file: IO[bytes]) -> None:
            file.write(data)

    try:
        atomic_write(real, fill)
    except OSError as exc:
        raise ResultWriteError(
            f"{type(result).__name__} could not write the result to {path!r}: "
            f"{exc.strerror or exc}. {_write_fix(exc)}"
        ) from exc


def _read_value(result: LocalResult, path: str) -> Any:
    owner = type(result).__name__
    real = resolve_inside(result.dir, path, owner=owner, follow_last=True)
    # Checked paths are opened without following a link put there since the check.
    checked = path.startswith(result.dir.rstrip(os.sep) + os.sep)
    try:
        with open(real, "rb", opener=_open_no_follow if checked else None) as file:
            if type(result.serializer) is PickleSerializer:
                try:
                    return load_from(file)
                except OSError:
                    raise
                except Exception as exc:
                    raise result._deserialization_error(path, exc) from exc
            data = file.read()
    except FileNotFoundError:
        raise ResultNotFoundError(
            f"{owner}: no stored result at {path!r}. Check the location (relative locations "
            "are joined to the result's dir) or write the result first"
        ) from None
    except PermissionError as exc:
        raise ResultReadError(
            f"{owner} cannot read {path!r}: permission denied. Give the user running "
            "asyncflow read permission on the file and search permission on its directories "
            "(e.g. chmod u+r), or run as the user that wrote it"
        ) from exc
    except IsADirectoryError as exc:
        raise ResultReadError(
            f"{owner} cannot read {path!r}: it is a directory, not a stored result; pass "
            "the location of a result file"
        ) from exc
    except OSError as exc:
        raise ResultReadError(f"{owner} could not read {path!r}: {exc.strerror or exc}") from exc
    return result._deserialize(data, path)


def _open_no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | _NO_FOLLOW)


def atomic_write(path: str, fill: Callable[[IO[bytes]], object]) -> None:
    """Replace the file at ``path`` with what ``fill(file)`` writes, durably, or leave it.

    Creates missing parent directories. On failure (of ``fill`` too) nothing is left
    behind and the exception propagates.

    On Linux the bytes go to an unnamed file (``O_TMPFILE``) that is linked into place
    once it is on disk: one directory change instead of two, about half the kernel work
    of a named temporary file. Elsewhere, or where the filesystem cannot do that, they go
    to a named temporary file that is renamed over the target.
    """
    global _use_unnamed_files
    directory, name = os.path.split(path)
    if _use_unnamed_files:
        try:
            _write_unnamed_then_link(directory, name, fill)
            return
        except _UnnamedFilesUnsupportedError:
            _use_unnamed_files = False
    _write_temp_then_rename(directory, name, fill)


class _UnnamedFilesUnsupportedError(Exception):
    """This system or filesystem cannot create unnamed files and link them."""


# Set to False for the process once the system turns out not to support unnamed files.
_use_unnamed_files = hasattr(os, "O_TMPFILE")
_UNNAMED_FLAGS = os.O_WRONLY | getattr(os, "O_TMPFILE", 0) | getattr(os, "O_CLOEXEC", 0)
# open(O_TMPFILE) fails so where the kernel or the filesystem lacks unnamed files.
_NO_UNNAMED_FILES = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})


def _write_unnamed_then_link(
    directory: str, name: str, fill: Callable[[IO[bytes]], object]
) -> None:
    dir_fd = _open_dir(directory)
    try:
        try:
            fd = os.open(".", _UNNAMED_FLAGS, 0o666, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in _NO_UNNAMED_FILES:
                raise _UnnamedFilesUnsupportedError from exc
            raise
        try:
            with open(fd, "wb", closefd=False) as file:
                fill(file)
            os.fsync(fd)
            _link_into_place(fd, dir_fd, name)
        finally:
            os.close(fd)
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _link_into_place(fd: int, dir_fd: int, name: str) -> None:
    source = f"/proc/self/fd/{fd}"
    try:
        os.link(source, name, dst_dir_fd=dir_fd)  # atomic, but never replaces a file
        return
    except FileExistsError:
        pass
    except OSError as exc:
        # Linking needs /proc (ENOENT without it) and a filesystem that allows it.
        if exc.errno == errno.EXDEV or (
            exc.errno == errno.ENOENT and not os.path.isdir("/proc/self/fd")
        ):
            raise _UnnamedFilesUnsupportedError from exc
        raise
    # Replacing a file: give the bytes a temporary name, then rename it over the target.
    temp = _temp_name(name)
    while True:
        try:
            os.link(source, temp, dst_dir_fd=dir_fd)
            break
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            temp = _temp_name(name)
    try:
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise


def _write_temp_then_rename(directory: str, name: str, fill: Callable[[IO[bytes]], object]) -> None:
    path = os.path.join(directory, name)
    temp: str | None = None
    try:
        try:
            fd, temp = _create_temp(directory, name)
        except FileNotFoundError:
            _make_dirs_durably(directory)
            fd, temp = _create_temp(directory, name)
        with open(fd, "wb") as file:  # closes fd, also on failure
            fill(file)
            file.flush()
            os.fsync(fd)
        os.replace(temp, path)
        temp = None
        _fsync_dir(directory)
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _temp_name(name: str) -> str:
    return f".{name[:_MAX_NAME_IN_TEMP]}.{secrets.token_hex(6)}.tmp"


def _create_temp(directory: str, name: str) -> tuple[int, str]:
    """Create and open a new temporary file next to the target (never an existing one)."""
    while True:
        temp = os.path.join(directory, _temp_name(name))
        try:
            return os.open(temp, _TEMP_FLAGS, 0o666), temp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def _open_dir(directory: str) -> int:
    try:
        return os.open(directory, _DIR_FLAGS)
    except FileNotFoundError:
        _make_dirs_durably(directory)
        return os.open(directory, _DIR_FLAGS)


def _make_dirs_durably(directory: str) -> None:
    """Create ``directory`` and its missing parents, flushing each new directory entry."""
    missing: list[str] = []
    path = directory
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
        _fsync_dir(os.path.dirname(path))


def _fsync_dir(directory: str) -> None:
    """Flush a directory entry change (the rename) to disk; a no-op where unsupported."""
    if os.name == "nt":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(directory, _DIR_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_fix(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return (
            "Permission denied: make the directory writable by the user running asyncflow, "
            "or choose another dir="
        )
    if isinstance(exc, IsADirectoryError):
        return "A directory exists at that path; use another location."
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        return "A part of the path is a file, not a directory; use another location or dir=."
    if exc.errno == errno.ENOSPC:
        return "The disk is full; free some space."
    if exc.errno == errno.ENAMETOOLONG:
        return "The file name is too long; shorten the location template."
    return "Check that the directory exists and is writable."
