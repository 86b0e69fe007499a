"""ConstantResult: a fixed value that is never stored anywhere."""

from __future__ import annotations

from typing import Any

from typing_extensions import Self

from .._core._exceptions import ResultWriteError
from ._base import Result


class ConstantResult(Result):
    """Holds a constant (for example a task input given as a literal).

    ``read`` returns the Result itself, ``exists`` is always True, and ``write`` raises:
    a constant is not checkpointed.
    """

    __slots__ = ()

    async def write(self, value: Any, **kwargs: Any) -> Self:
        raise ResultWriteError(
            "ConstantResult holds a fixed value and cannot be written; use LocalResult or "
            "JSONResult to store values"
        )

    async def read(self, location: str) -> Self:
        """The Result itself: its value is the constant."""
        return self

    async def exists(self, location: str, **kwargs: Any) -> bool:
        return True
