"""Configuration: built-in defaults, then a user TOML file, then environment variables.

Environment variables are named ``ASYNCFLOW__SECTION__KEY`` (double underscores separate
levels), e.g. ``ASYNCFLOW__FLOWS__CHECKPOINTING=false``. Values parse as booleans
(``true``/``false``), numbers or JSON where they can, else stay strings. The user file is
``~/.asyncflow/config.toml``, or the path in ``ASYNCFLOW__USER_CONFIG_PATH``.

Configuration is read each time it is asked for (a run reads it once, when it starts), so
changing an environment variable between runs takes effect: nothing is frozen at import.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ENV_PREFIX = "ASYNCFLOW__"
USER_CONFIG_ENV = "ASYNCFLOW__USER_CONFIG_PATH"

DEFAULTS: dict[str, Any] = {
    "flows": {
        # Persist task results whenever a persisting Result is configured.
        "checkpointing": True,
        # Bound on simultaneously running task bodies in a run (0: no bound).
        "max_concurrency": 0,
    },
    "engine": {
        # Worker threads available to the sync task bodies of one run.
        "thread_limit": 40,
        # Seconds a cancelled run waits for state handlers of cancelled tasks.
        "cancel_handler_timeout": 10.0,
    },
    "results": {
        "local_dir": "~/.asyncflow/results",
    },
    "task_concurrency_limits": {},
    "context": {"secrets": {}},
    "notifications": {
        "timeout": 10.0,
        "max_attempts": 4,
        "max_retry_after": 30.0,
        "backoff": 0.5,
        # Paced, digested delivery (asyncflow/_notify/_sender.py).
        "flush_timeout": 60.0,
        "slack_interval": 1.0,
        "digest_tasks": 10,
        "dashboard_url": "",
    },
    "history": {"url": ""},
    "ui": {"token": ""},
    "logging": {
        "level": "INFO",
        # Loggers whose lines inside a task run are captured like context.logger's.
        "extra_loggers": [],
    },
}


class Config(dict[str, Any]):
    """A nested configuration mapping that also allows attribute access."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(
                f"no configuration key {key!r}; known keys here: {sorted(self)}"
            ) from None

    def get_path(self, dotted: str, default: Any = None) -> Any:
        """The value at ``"section.key"``, or ``default``."""
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node


def parse_value(raw: str) -> Any:
    """Turn an environment variable's text into a bool, number, JSON value or string."""
    lowered = raw.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def _to_config(node: Mapping[str, Any]) -> Config:
    return Config({k: _to_config(v) if isinstance(v, Mapping) else v for k, v in node.items()})


_file_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def _read_user_file(environ: Mapping[str, str]) -> dict[str, Any]:
    path = Path(environ.get(USER_CONFIG_ENV, "~/.asyncflow/config.toml")).expanduser()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _file_cache.get(str(path))
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"the configuration file {str(path)!r} cannot be read: {exc}. "
            f"Fix the file, or point {USER_CONFIG_ENV} at another one."
        ) from exc
    _file_cache[str(path)] = (mtime, data)
    return dict(data)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read the configuration now: defaults, then the user file, then the environment."""
    env = os.environ if environ is None else environ
    merged = copy.deepcopy(DEFAULTS)
    _merge(merged, _read_user_file(env))
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == USER_CONFIG_ENV:
            continue
        parts = name[len(ENV_PREFIX) :].split("__")
        if not all(parts):
            continue
        # Section names are case-insensitive; a secret's own name keeps its case.
        keep_case = len(parts) == 3 and [p.lower() for p in parts[:2]] == ["context", "secrets"]
        keys = [p.lower() for p in parts[:-1]] + [parts[-1] if keep_case else parts[-1].lower()]
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[keys[-1]] = parse_value(raw)
    for overrides in _temporary_var.get():
        for path, value in overrides:
            _set_path(merged, path, value)
    return _to_config(merged)


# ---- temporary configuration --------------------------------------------------------
_temporary_var: ContextVar[tuple[tuple[tuple[tuple[str, ...], Any], ...], ...]] = ContextVar(
    "asyncflow_temporary_config", default=()
)


@contextmanager
def set_temporary_config(values: Mapping[str, Any]) -> Iterator[Config]:
    """Override configuration keys inside a ``with`` block; yields the configuration then.

    Keys are dotted paths (``{"flows.checkpointing": False}``). The overrides win over the
    file and the environment, and end when the block does, also when it raises. They
    hold for the code in the block and for what it starts (tasks, runs, worker threads
    that asyncflow starts), as a :mod:`contextvars` value: not for other threads.
    Blocks nest; the innermost wins.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(
            f"set_temporary_config() takes a mapping of dotted keys to values, such as "
            f'{{"flows.checkpointing": False}}; got {type(values).__name__}'
        )
    current = load_config()
    overrides = tuple((_check_key(current, key), value) for key, value in values.items())
    token = _temporary_var.set((*_temporary_var.get(), overrides))
    try:
        yield load_config()
    finally:
        _temporary_var.reset(token)


def _check_key(current: Mapping[str, Any], key: Any) -> tuple[str, ...]:
    """The path of a dotted key; a typo in a built-in section raises ConfigError."""
    if not isinstance(key, str) or not key or not all(key.split(".")):
        raise ConfigError(
            f"configuration key {key!r} is not a dotted name such as 'flows.checkpointing'"
        )
    path = tuple(key.split("."))
    node: Any = current
    for depth, part in enumerate(path[:-1]):
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None and not isinstance(node, Mapping):
            where = ".".join(path[: depth + 1])
            raise ConfigError(
                f"configuration key {key!r} goes inside {where!r}, which is a value "
                f"({node!r}), not a section; set {where!r} itself"
            )
    section = DEFAULTS.get(path[0])
    if len(path) == 2 and isinstance(section, dict) and section and path[0] != "context":
        known = current[path[0]]
        if path[1] not in known:
            raise ConfigError(
                f"no configuration key {key!r}; the keys of {path[0]!r} are {sorted(known)}"
            )
    return path


def _set_path(node: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if isinstance(value, Mapping) and isinstance(node.get(path[-1]), dict):
        _merge(node[path[-1]], value)  # a section given whole keeps the keys it leaves out
    else:
        node[path[-1]] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
