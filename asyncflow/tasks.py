"""Ready-made tasks: constants (and, in the task library, operators and control flow)."""

from __future__ import annotations

from ._core._constant import Constant as Constant

__all__ = ["Constant"]
