"""Secrets: named values looked up at call time, and a wrapper that keeps them out of output.

``Secret(name).get()`` looks in three places, first match wins:

1. the run's context secrets: ``flow.run(context={"secrets": {...}})`` merged over the
   configuration's ``[context.secrets]`` when the run started;
2. the environment variable ``ASYNCFLOW__CONTEXT__SECRETS__<NAME>``, read at call time;
3. ``[context.secrets]`` of the configuration file, read at call time.

Text values are JSON-decoded when they parse (``'{"a": 1}'`` gives a dict), as in
Prefect 1.x. :class:`SecretStr` holds a secret text (a password, a webhook URL) and shows
``**********`` in every ``repr``, ``str`` and f-string, so it cannot leak into logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ._core._config import ENV_PREFIX, load_config
from ._core._context import context
from ._core._exceptions import SecretNotFoundError

__all__ = ["Secret", "SecretStr", "redact"]

MASK = "**********"

_NOT_FOUND: Any = object()


class SecretStr:
    """A secret text that never shows itself: ``repr`` and ``str`` give ``**********``.

    Call :meth:`get_secret_value` at the one place that needs the real text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"SecretStr holds text, got a {type(value).__name__}")
        self._value = value

    def get_secret_value(self) -> str:
        """The secret text itself."""
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretStr):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class Secret:
    """A named secret, looked up when :meth:`get` is called (see the module docstring)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a secret's name is a non-empty string, got {name!r}")
        self.name = name

    @property
    def env_var(self) -> str:
        """The environment variable that can hold this secret."""
        return f"{ENV_PREFIX}CONTEXT__SECRETS__{self.name}"

    def get(self) -> Any:
        """The secret's value, JSON-decoded when it is text that parses as JSON.

        A secret set nowhere raises ``SecretNotFoundError`` (an ``AsyncflowError`` and a
        ``KeyError``) naming the environment variable to set.
        """
        value = self._lookup()
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_text(self) -> SecretStr:
        """The secret as a :class:`SecretStr`, without JSON decoding (for URLs, passwords).

        Numbers written unquoted in a TOML file are accepted as their text.
        """
        value = self._lookup()
        if isinstance(value, SecretStr):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return SecretStr(str(value))
        if not isinstance(value, str):
            raise TypeError(
                f"secret {self.name!r} must hold text, but it holds a "
                f"{type(value).__name__} (the value is not shown)"
            )
        return SecretStr(value)

    def _lookup(self) -> Any:
        run_secrets = context.get("secrets")
        if isinstance(run_secrets, Mapping) and self.name in run_secrets:
            return run_secrets[self.name]
        value: Any = os.environ.get(self.env_var, _NOT_FOUND)
        if value is not _NOT_FOUND:
            return value
        file_secrets = load_config().get_path("context.secrets") or {}
        if isinstance(file_secrets, Mapping) and self.name in file_secrets:
            return file_secrets[self.name]
        raise SecretNotFoundError(
            f"Secret {self.name!r} was not found. Set the environment variable "
            f"{self.env_var}, add {self.name} under [context.secrets] in the configuration "
            f"file, or pass flow.run(context={{'secrets': {{{self.name!r}: ...}}}})."
        )

    def __repr__(self) -> str:
        return f"<Secret: {self.name}>"


def redact(text: str, *secrets: str | SecretStr | None) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ``**********``."""
    values = [s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets]
    # Longest first, so a secret that contains another is masked whole.
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
