from __future__ import annotations

#: The installed version of asyncflow-engine.
__version__ = "0.1.0"
