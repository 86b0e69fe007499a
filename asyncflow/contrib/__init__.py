"""Integrations with other frameworks, each in its own module and behind its own extra.

- :mod:`asyncflow.contrib.aiohttp`: serve flows from an aiohttp app
  (``pip install 'asyncflow-engine[aiohttp]'``).
"""

from __future__ import annotations

__all__: list[str] = []
