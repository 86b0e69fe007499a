"""What the run manager raises; the HTTP layer maps each error to one status code.

::

    AsyncflowError
    ├── UnknownFlowError (also LookupError)        404: no flow of that name is served
    ├── UnknownRunError (also LookupError)         404: no such run (or it was forgotten)
    ├── RunLimitError (also FlowRunError)          429: max_concurrent_runs runs are active
    └── RunManagerClosedError (also FlowRunError)  503: not started yet, or shutting down
"""

from __future__ import annotations

from .._core._exceptions import AsyncflowError, FlowRunError


class UnknownFlowError(AsyncflowError, LookupError):
    """No flow of that name is registered with the run manager."""


class UnknownRunError(AsyncflowError, LookupError):
    """No run has that id: it never existed, or it finished long enough ago to be forgotten."""


class RunLimitError(FlowRunError):
    """As many runs as ``max_concurrent_runs`` allows are already active."""


class RunManagerClosedError(FlowRunError):
    """The run manager is not started yet, or is shutting down: it accepts no new runs."""
