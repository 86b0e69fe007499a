"""Configuration, read when asked for: ``asyncflow.config.flows.checkpointing``.

Attribute access reads the configuration afresh (defaults, then the user file, then
``ASYNCFLOW__SECTION__KEY`` environment variables); a run reads it once when it starts.
``with set_temporary_config({"flows.checkpointing": False}):`` overrides keys for a block.
"""

from __future__ import annotations

from typing import Any

from ._core._config import (
    Config as Config,
    load_config as load_config,
    set_temporary_config as set_temporary_config,
)

__all__ = ["Config", "load_config", "set_temporary_config"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(load_config(), name)
