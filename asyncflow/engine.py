"""Prefect 1.x's engine entry point: ``FlowRunner(flow).run(...)``.

asyncflow's own way to run a flow is ``await flow.run(...)`` (or ``flow.run_sync``);
``FlowRunner`` keeps the call Prefect 1.x code and tests make, blocking as it did.
"""

from __future__ import annotations

from ._core._flow_runner_facade import FlowRunner as FlowRunner

__all__ = ["FlowRunner"]
