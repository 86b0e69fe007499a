"""OpenTelemetry spans of flow and task runs (see :mod:`._otel`)."""
