"""Result locations: filling in templates and callables, checking them, and defaults.

A location is a :meth:`str.format` template (``"{date:%A}/{task_name}.prefect"``), a
callable ``fn(**kwargs) -> str``, or a fixed string. The engine formats it with the keys
of the run context plus the flow's parameters and the task's inputs.

Task inputs are not trusted, so a location that stores results somewhere (a LocalResult
dir, an S3 or GCS bucket) is checked here, in one place, before anything is written or
read: every value formatted into it, then the whole filled-in location
(:func:`formatted_problem`), then, for files, the symbolic links on the way
(:func:`resolve_inside`).
"""

from __future__ import annotations

import datetime
import os
import re
import stat
import string
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from .._core._exceptions import LocationError

#: What ``Result(location=...)`` accepts: a template, a callable, or None for the default.
Location: TypeAlias = str | Callable[..., str] | None

_MAX_SHOWN = 120
_SEPARATORS = re.compile(r"[\\/]")


def _shown(text: str) -> str:
    return repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...")


def _keys_text(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(sorted(kwargs)) if kwargs else "(none)"


def format_location(
    location: str | Callable[..., str],
    kwargs: Mapping[str, Any],
    *,
    owner: str,
    within: str | None = None,
) -> str:
    """Fill in ``location`` with ``kwargs``.

    ``owner`` names the Result in error messages. With ``within`` (where the results must
    stay, such as ``"the result dir '/data'"`` or ``"the bucket 'b'"``), every value
    formatted into a template must be a relative path without ``..``, and the filled-in
    location, whether from a template or a callable, must pass :func:`formatted_problem`:
    task inputs cannot move a result elsewhere, nor turn a target into a file to unpickle.
    A fixed location (no fields) is the author's own and is not checked here.
    """
    if isinstance(location, str):
        if "{" not in location and "}" not in location:
            return location
        try:
            if within is None:
                return location.format_map(kwargs)
            formatter = _CheckedFormatter(location, owner, within)
            text = formatter.vformat(location, (), kwargs)
        except LocationError:
            raise
        except KeyError as exc:
            raise LocationError(
                f"{owner}: the location template {_shown(location)} uses the key "
                f"{{{exc.args[0]}}}, which is not available; available keys: "
                f"{_keys_text(kwargs)}"
            ) from None
        except (IndexError, ValueError) as exc:
            if isinstance(exc, IndexError) or "positional" in str(exc):
                raise LocationError(
                    f"{owner}: the location template {_shown(location)} has a positional "
                    "field such as {} or {0}; name a key instead, for example {task_name}"
                ) from None
            raise _unfillable(owner, location, exc) from exc
        except (AttributeError, TypeError) as exc:
            raise _unfillable(owner, location, exc) from exc
        if formatter.fields:
            problem = formatted_problem(text)
            if problem and location.startswith(("/", "\\")):
                raise LocationError(
                    f"{owner}: the location template {_shown(location)} is an absolute path, "
                    f"so its values are not kept inside {within}. Give the directory as "
                    "dir= (or bucket=) and make the template relative to it, e.g. "
                    "LocalResult(dir='/data/results', location='{task_name}.pkl')"
                )
            if problem:
                raise LocationError(
                    f"{owner}: the location template {_shown(location)} formatted to "
                    f"{_shown(text)}, which {problem}, so it would not stay inside {within}"
                    f"{_empty_fields_note(formatter.empty_fields)}. {_TEMPLATE_FIX}"
                )
        return text
    if callable(location):
        name = getattr(location, "__qualname__", repr(location))
        try:
            result = location(**kwargs)
        except KeyError as exc:
            raise LocationError(
                f"{owner}: the location callable {name} asked for the key {exc.args[0]!r}, "
                f"which is not available; available keys: {_keys_text(kwargs)}"
            ) from exc
        except Exception as exc:
            raise LocationError(
                f"{owner}: the location callable {name} raised {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(result, os.PathLike):
            result = os.fspath(result)
        if not isinstance(result, str):
            raise LocationError(
                f"{owner}: the location callable {name} returned {type(result).__name__}; "
                "it must return the location as a str"
            )
        if within is not None:
            problem = formatted_problem(result)
            if problem:
                raise LocationError(
                    f"{owner}: the location callable {name} returned {_shown(result)}, "
                    f"which {problem}, so it would not stay inside {within}. Return a path "
                    "relative to dir= (or a key inside bucket=) made of non-empty names "
                    "separated by '/', without '..', backslashes or NUL"
                )
        return result
    raise LocationError(
        f"{owner}: a location must be a str template or a callable returning a str, "
        f"got {type(location).__name__}"
    )


_TEMPLATE_FIX = (
    "A filled-in location must be a relative path of non-empty names separated by '/', "
    "without '..', backslashes or NUL: make sure every value formatted into it is a "
    "non-empty relative name (check the task inputs, or give empty ones a default), or "
    "compute the location with a callable"
)


def _empty_fields_note(fields: list[str]) -> str:
    if not fields:
        return ""
    names = ", ".join(f"{{{name}}}" for name in fields)
    return f" ({names} {'was' if len(fields) == 1 else 'were'} empty)"


def formatted_problem(text: str) -> str | None:
    """Why ``text``, a filled-in location, cannot be used, or None when it can.

    A formatted location must be a non-empty relative path of non-empty names separated
    by ``/``: no leading ``/`` (an empty first field would make one), no ``//`` or trailing
    ``/``, no ``..`` name, no NUL, and no backslash (a separator on Windows, so refused
    everywhere for the same results to mean the same files).
    """
    if not text:
        return "is empty"
    if "\x00" in text:
        return "contains a NUL character"
    if "\\" in text:
        return "contains a backslash"
    if text.startswith("/") or os.path.isabs(text) or os.path.splitdrive(text)[0]:
        return "is an absolute path"
    parts = text.split("/")
    if "" in parts:
        return "has an empty path component ('//' or a trailing '/')"
    if ".." in parts:
        return "has a '..' component"
    return None


def _unfillable(owner: str, location: str, exc: Exception) -> LocationError:
    return LocationError(
        f"{owner}: the location template {_shown(location)} cannot be filled in: "
        f"{exc}. Check the format specs (e.g. {{date:%Y-%m-%d}}) and attribute names"
    )


def _escape_problem(text: str) -> str | None:
    """Why ``text`` cannot be used as a part of a path confined to a directory, or None."""
    if "\x00" in text:
        return "contains a NUL character"
    if text.startswith(("/", "\\")) or os.path.isabs(text) or os.path.splitdrive(text)[0]:
        return "is an absolute path"
    if ".." in _SEPARATORS.split(text):
        return "has a '..' component"
    return None


class _CheckedFormatter(string.Formatter):
    """A :meth:`str.format` that rejects substituted values that are not safe path parts.

    It also records which fields it filled in and which of them were empty, so that the
    check of the whole location can name them.
    """

    def __init__(self, template: str, owner: str, within: str) -> None:
        self.template = template
        self.owner = owner
        self.within = within
        self.field = ""
        self.fields: list[str] = []
        self.empty_fields: list[str] = []

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        self.field = field_name
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        text = super().format_field(value, format_spec)
        self.fields.append(self.field)
        if not text and self.field not in self.empty_fields:
            self.empty_fields.append(self.field)
        problem = _escape_problem(text)
        if problem:
            raise LocationError(
                f"{self.owner}: the location template {_shown(self.template)} got "
                f"{{{self.field}}} = {_shown(text)}, which {problem} and so would escape "
                f"{self.within}. Values formatted into a location must be relative path "
                "parts without '..'; clean the input, or compute the location with a callable"
            )
        return text


def confine_path(directory: str, location: str, *, owner: str) -> str:
    """The absolute, normalised path of ``location``; relative ones are joined to ``directory``.

    A relative location must stay inside ``directory`` once normalised.
    """
    if not location:
        raise LocationError(f"{owner}: the location is empty; give a file name or a template")
    if "\x00" in location:
        raise LocationError(f"{owner}: the location {_shown(location)} contains a NUL character")
    if os.path.isabs(location):
        return os.path.normpath(location)
    path = os.path.normpath(os.path.join(directory, location))
    if not path.startswith(directory.rstrip(os.sep) + os.sep):
        raise LocationError(
            f"{owner}: the location {_shown(location)} resolves to {path!r}, outside the "
            f"result dir {directory!r}. Use a path inside dir without '..', or an absolute path"
        )
    return path


def resolve_inside(directory: str, path: str, *, owner: str, follow_last: bool) -> str:
    """The path to open for ``path``, refused if a symbolic link under ``directory`` leads out.

    ``path`` is absolute and normalised (see :func:`confine_path`). When it is inside
    ``directory``, each of its components below ``directory`` that exists is looked at
    (the last one only with ``follow_last``: reads follow a link there, writes replace
    it); if one is a symbolic link, the path is resolved and must still be inside the
    resolved ``directory``, and the resolved path is returned, so that what was checked is
    what is opened. A path outside ``directory`` is an absolute location its author chose
    and is returned unchanged. Makes system calls: run it in a worker thread.
    """
    base = directory.rstrip(os.sep)
    if not path.startswith(base + os.sep):
        return path
    parts = path[len(base) + 1 :].split(os.sep)
    current = base
    for part in parts if follow_last else parts[:-1]:
        current = current + os.sep + part
        try:
            mode = os.lstat(current).st_mode
        except OSError:  # missing (created as a real directory on write) or unreadable
            break
        if stat.S_ISLNK(mode):
            return _resolved_inside(directory, path, owner=owner, follow_last=follow_last)
    return path


def _resolved_inside(directory: str, path: str, *, owner: str, follow_last: bool) -> str:
    real_dir = os.path.realpath(directory)
    head, name = os.path.split(path)
    real = os.path.realpath(path) if follow_last else os.path.join(os.path.realpath(head), name)
    if not real.startswith(real_dir.rstrip(os.sep) + os.sep):
        raise LocationError(
            f"{owner}: the location {_shown(path)} goes through a symbolic link to "
            f"{real!r}, outside the result dir {directory!r}, so it is neither written nor "
            "read. Remove or fix the link, or set dir= to the directory the results "
            "should go to"
        )
    return real


def check_bucket(bucket: str, *, owner: str) -> None:
    """Refuse a bucket name that looks like a template: the bucket is never filled in.

    Only an object's key comes from the location template, so task inputs can choose a
    key inside the bucket but never another bucket.
    """
    if "{" in bucket or "}" in bucket or "/" in bucket:
        raise LocationError(
            f"{owner}: bucket={_shown(bucket)} is not a bucket name; the bucket is used as "
            "given and never filled in from a template (only the location is). Give the "
            "bare bucket name, and put any per-run part in location=, e.g. "
            "location='{flow_name}/{task_name}.bin'"
        )


def default_location() -> str:
    """``YYYY/MM/DD/<uuid4>.asyncflow_result`` (UTC date): unique and sorted by day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return f"{now:%Y/%m/%d}/{uuid.uuid4()}.asyncflow_result"


def local_default_location() -> str:
    """``asyncflow-result-<UTC timestamp with microseconds>-<8 hex digits>``, one file name."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
    stamp = now.lower().replace(":", "-").replace(".", "-").replace("+", "-")
    return f"asyncflow-result-{stamp}-{uuid.uuid4().hex[:8]}"
