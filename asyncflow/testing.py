"""Helpers for testing and debugging flows."""

from __future__ import annotations

from ._core._context import raise_on_exception as raise_on_exception

__all__ = ["raise_on_exception"]
