"""Executors: where task bodies run. Orchestration always stays in the caller's loop.

The engine calls :meth:`Executor.submit` for each task body (each attempt, each mapped
child). The default :class:`LocalExecutor` runs coroutines on the loop and sync bodies
in worker threads; :class:`~asyncflow.executors.DaskExecutor` sends them to a cluster.

A body that raises, raises out of ``submit`` (signals included). A body that exceeds
``timeout`` makes ``submit`` raise :class:`TaskTimeoutError`. When the engine asks for
the value to be persisted where it was computed (``persist``), an executor may write it
there and return :class:`Persisted` carrying the written Result; otherwise it returns
the value and the engine persists it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._results._base import Result
    from ._resources import RunResources
    from ._task import Task


class TaskTimeoutError(Exception):
    """A task body ran past its ``timeout``; the task ends ``TimedOut``."""


class PersistRequest:
    """Persist the value with ``result`` (a template), formatted with ``kwargs``."""

    __slots__ = ("result", "kwargs")

    def __init__(self, result: Result, kwargs: dict[str, Any]) -> None:
        self.result = result
        self.kwargs = kwargs


class Persisted:
    """A value already written by the executor: ``result`` has its location (and value)."""

    __slots__ = ("result",)

    def __init__(self, result: Result) -> None:
        self.result = result


class Executor(ABC):
    """Runs task bodies for a flow run."""

    async def start(self, resources: RunResources) -> None:  # noqa: B027 - optional hook
        """Called once when a run starts; ``resources`` close when it ends."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Called once when the run ends, also on cancellation (shielded)."""

    @abstractmethod
    async def submit(
        self,
        task: Task[Any],
        body: Callable[..., Any],
        inputs: dict[str, Any],
        *,
        timeout: float | None,
        persist: PersistRequest | None,
    ) -> Any:
        """Run ``body(**inputs)`` and return its value (or :class:`Persisted`)."""


class LocalExecutor(Executor):
    """The default: coroutines on the event loop, sync bodies in worker threads.

    The engine runs bodies itself on this path (no indirection), so this class only marks
    the choice; ``flow.run(executor=LocalExecutor())`` equals the default.
    """

    async def submit(
        self,
        task: Task[Any],
        body: Callable[..., Any],
        inputs: dict[str, Any],
        *,
        timeout: float | None,
        persist: PersistRequest | None,
    ) -> Any:  # pragma: no cover - the engine never calls it
        raise RuntimeError("LocalExecutor bodies run in the engine")

    def __repr__(self) -> str:
        return "LocalExecutor()"
