"""``print`` in a task declared ``log_stdout=True``: its lines go to the task run's logger.

:func:`capture_prints` puts a proxy in front of ``sys.stdout`` which sends what is
written to the task run whose context the writer runs in, a line per INFO record, and
everything else, other tasks' prints included, to the stream it replaced. The records
are then captured like any other line of the task run (see :mod:`._log_capture`).
"""

from __future__ import annotations

import io
import logging
import sys
from contextvars import ContextVar, Token
from typing import Any, TextIO


class _Lines:
    """What one task run prints, logged a line at a time."""

    __slots__ = ("logger", "partial")

    def __init__(self, logger: logging.LoggerAdapter[logging.Logger]) -> None:
        self.logger = logger
        self.partial = ""

    def write(self, text: str) -> None:
        if "\n" not in text:
            self.partial += text
            return
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        for line in lines:
            self.logger.info("%s", line.rstrip("\r"))

    def close(self) -> None:
        if self.partial:
            partial, self.partial = self.partial, ""
            self.logger.info("%s", partial)


_prints_var: ContextVar[_Lines | None] = ContextVar("asyncflow_prints", default=None)


class StdoutProxy(io.TextIOBase):
    """Stands in for ``sys.stdout``: a ``log_stdout`` task run's writes go to its logger,
    all others to the stream this proxy replaced."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        lines = _prints_var.get()
        if lines is None:
            return self.stream.write(text)
        lines.write(text)
        return len(text)

    def flush(self) -> None:
        if _prints_var.get() is None:
            self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.stream, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def capture_prints(logger: logging.LoggerAdapter[logging.Logger]) -> Token[_Lines | None]:
    """Send what the current context prints to ``logger`` (until :func:`release_prints`)."""
    if not isinstance(sys.stdout, StdoutProxy):
        sys.stdout = StdoutProxy(sys.stdout)
    return _prints_var.set(_Lines(logger))


def release_prints(token: Token[_Lines | None]) -> None:
    """Log the last unfinished line, and print to the real stream again."""
    lines = _prints_var.get()
    _prints_var.reset(token)
    if lines is not None:
        lines.close()
