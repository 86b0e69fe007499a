"""The Result base class: a value, where it is stored, and how to store it.

(Contract used by the engine; the full implementation lives here.)
"""

from __future__ import annotations

import copy
from typing import Any


class Result:
    """A value and, for persisting subclasses, where and how it is stored.

    The base class keeps the value in memory only (``persists`` is False).
    """

    persists = False

    def __init__(self, value: Any = None, location: Any = None, serializer: Any = None) -> None:
        self.value = value
        self.location = location
        self.serializer = serializer

    def copy(self) -> Result:
        return copy.copy(self)

    def format(self, **kwargs: Any) -> Result:
        new = self.copy()
        if isinstance(self.location, str):
            new.location = self.location.format(**kwargs)
        elif callable(self.location):
            new.location = self.location(**kwargs)
        return new

    async def write(self, value: Any, **kwargs: Any) -> Result:
        new = self.format(**kwargs)
        new.value = value
        return new

    async def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        return new

    async def exists(self, location: str, **kwargs: Any) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<Result: {self.value!r}>"
