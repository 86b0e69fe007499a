"""The aiohttp integration's implementation; the public names are in :mod:`asyncflow.contrib.aiohttp`.

- ``_errors``: what the run manager raises (each maps to one HTTP status).
- ``_encoding``: states, tasks and runs as strict JSON (never a pickled value).
- ``_body``: the submit route's body: strict JSON, nested at most 64 levels.
- ``_sse``: the server-sent events wire format and one subscriber's bounded buffer.
- ``_runs``: one run started by the service: its states, event log and subscribers.
- ``_manager``: the run manager, whose single owner task holds the runs' task group.
- ``_routes``: the HTTP handlers.
- ``_setup``: ``setup(app, flows=...)``, wiring the manager into the app's lifecycle.
"""

from __future__ import annotations

from importlib.util import find_spec

from .._core._exceptions import MissingExtraError

if find_spec("aiohttp") is None:  # pragma: no cover - the test environment has aiohttp
    raise MissingExtraError("asyncflow.contrib.aiohttp", "aiohttp", "aiohttp")
