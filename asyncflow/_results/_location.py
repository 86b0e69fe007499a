"""Result locations: filling in templates and callables, and default locations.

A location is a :meth:`str.format` template (``"{date:%A}/{task_name}.prefect"``), a
callable ``fn(**kwargs) -> str``, or a fixed string. The engine formats it with the keys
of the run context plus the flow's parameters and the task's inputs.
"""

from __future__ import annotations

import datetime
import os
import re
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
    confined_to: str | None = None,
) -> str:
    """Fill in ``location`` with ``kwargs``.

    ``owner`` names the Result in error messages. With ``confined_to`` (a LocalResult's
    dir), every value formatted into a template, and the whole string a callable returns,
    must be a relative path without ``..`` components, so that task inputs cannot move a
    result outside its directory.
    """
    if isinstance(location, str):
        if "{" not in location and "}" not in location:
            return location
        try:
            if confined_to is None:
                return location.format_map(kwargs)
            return _ConfinedFormatter(location, owner, confined_to).vformat(location, (), kwargs)
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
        if confined_to is not None:
            problem = _escape_problem(result)
            if problem:
                raise LocationError(
                    f"{owner}: the location callable {name} returned {_shown(result)}, "
                    f"which {problem} and so could escape the result dir {confined_to!r}. "
                    "Return a path relative to dir (set dir= to choose the base directory)"
                )
        return result
    raise LocationError(
        f"{owner}: a location must be a str template or a callable returning a str, "
        f"got {type(location).__name__}"
    )


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


class _ConfinedFormatter(string.Formatter):
    """A :meth:`str.format` that rejects substituted values that are not safe path parts."""

    def __init__(self, template: str, owner: str, directory: str) -> None:
        self.template = template
        self.owner = owner
        self.directory = directory
        self.field = ""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        self.field = field_name
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        text = super().format_field(value, format_spec)
        problem = _escape_problem(text)
        if problem:
            raise LocationError(
                f"{self.owner}: the location template {_shown(self.template)} got "
                f"{{{self.field}}} = {_shown(text)}, which {problem} and so would escape the "
                f"result dir {self.directory!r}. Values formatted into a LocalResult location "
                "must be relative path parts without '..'; clean the input, or compute the "
                "location with a callable"
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


def default_location() -> str:
    """``YYYY/MM/DD/<uuid4>.asyncflow_result`` (UTC date): unique and sorted by day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return f"{now:%Y/%m/%d}/{uuid.uuid4()}.asyncflow_result"


def local_default_location() -> str:
    """``asyncflow-result-<UTC timestamp with microseconds>-<8 hex digits>``, one file name."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
    stamp = now.lower().replace(":", "-").replace(".", "-").replace("+", "-")
    return f"asyncflow-result-{stamp}-{uuid.uuid4().hex[:8]}"
