"""Whether to trace a run: only with OpenTelemetry imported and a tracer provider set.

:func:`tracing_observer` is called once per flow run. While the ``opentelemetry``
package has not been imported nothing can have configured a tracer provider, so the
check is a dictionary lookup, and the run has no tracing observer at all; the module
that makes spans, :mod:`._otel`, is only imported for a run that is traced.
"""

from __future__ import annotations

import sys
from typing import Any


def tracing_observer() -> Any:
    """A :class:`._otel.RunTracer` for this run, or None when nothing would record spans."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None  # the API's defaults: no SDK set up, every span would be dropped
    from ._otel import RunTracer

    return RunTracer(provider)
