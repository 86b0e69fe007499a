"""Small helpers shared by the notifier tests."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Named:
    """The smallest task-like object a notifier accepts: anything with a ``name``."""

    name: str


def everything_shown(exc: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    """All the text a user could see: the error's str, repr, traceback, and every log line."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    parts += [record.getMessage() for record in caplog.records]
    parts += [logging.Formatter().format(record) for record in caplog.records]
    return "\n".join(parts)
