"""What the engine uses but does not own, attached from the layers above it.

``asyncflow._core`` imports nothing above itself. Results, the run history and pictures
of flows are built on the engine; the engine still needs a few of their functions (to
wrap a task's value in a ``Result``, to record a run named by a history URL, to draw a
flow). Those functions are attached here by :mod:`asyncflow._wiring`, which
``import asyncflow`` runs before any engine code can, so the engine can be read and
tested without the modules above it. Each attached function imports its own module
only when first called, so ``import asyncflow`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._state import ResultInterface


class Attached:
    """The functions the layers above attach; one instance, :data:`attached`."""

    __slots__ = ("default_parameter_result", "history_observer", "no_result",
                 "check_restart_options", "render_flow", "result_from_handler", "start_restart",
                 "tracing_observer", "wrap_value")

    def __init__(self) -> None:
        self.wrap_value: Callable[[Any], ResultInterface] = _not_attached("wrap_value")
        self.no_result: Callable[[], ResultInterface] = _not_attached("no_result")
        self.default_parameter_result: Callable[[], Any] = _not_attached(
            "default_parameter_result")
        self.result_from_handler: Callable[[Any], Any] = _not_attached("result_from_handler")
        self.history_observer: Callable[[str], Any] = _not_attached("history_observer")
        self.render_flow: Callable[..., Any] = _not_attached("render_flow")
        #: Checks ``flow.run(restart_from=...)``'s options before the run starts.
        self.check_restart_options: Callable[..., None] = _not_attached("check_restart_options")
        #: Plans a restart from the history (a coroutine function of the runner and config).
        self.start_restart: Callable[..., Any] = _not_attached("start_restart")
        #: A run observer making OpenTelemetry spans, or None when nothing would record them.
        self.tracing_observer: Callable[[], Any] = _not_attached("tracing_observer")


def _not_attached(name: str) -> Callable[..., Any]:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"asyncflow's engine needs {name!r}, which `import asyncflow` attaches; "
            "import asyncflow before using asyncflow._core directly"
        )

    return missing


attached = Attached()
