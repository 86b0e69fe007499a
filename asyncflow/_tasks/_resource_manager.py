"""Resource managers: set a resource up before a block of tasks, clean it up after.

::

    @resource_manager
    class TemporaryDatabase:
        def __init__(self, url):
            self.url = url

        async def setup(self):             # sync or async
            return await connect(self.url)

        async def cleanup(self, db):       # runs even when tasks of the block failed
            await db.close()

    with Flow("report") as flow:
        with TemporaryDatabase(Parameter("url")) as db:
            rows = query(db)
            write(rows)

Three tasks are added: ``TemporaryDatabase`` (makes the manager object), its ``.setup``
(upstream of the block's first tasks; its result is what ``as db`` names) and its
``.cleanup`` (downstream of the block's last tasks). The cleanup runs once every task of
the block has finished, however it ended, provided the setup succeeded; it is not a
reference task, so it does not decide the flow's final state.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any, overload

from .._core._blocks import NotAReferenceTask, TaskBlock, open_blocks_var
from .._core._edges import Edge, building_flow_var
from .._core._exceptions import FlowDefinitionError
from .._core._signals import SKIP, TRIGGERFAIL
from .._core._states import State
from .._core._task import FunctionTask, Task
from .._core._triggers import upstream_state_set

if TYPE_CHECKING:
    from .._core._flow import Flow


def _is_async(method: Any) -> bool:
    return inspect.iscoroutinefunction(method)


class ResourceSetupTask(Task[Any]):
    """Calls ``mgr.setup()``; its result is the resource."""

    __slots__ = ()

    def __init__(self, *, is_async: bool, **options: Any) -> None:
        super().__init__(**options)
        self._is_async = is_async  # an async setup is awaited, a sync one runs in a thread

    def run(self, mgr: Any) -> Any:
        return mgr.setup()


class ResourceCleanupTask(NotAReferenceTask, Task[Any]):
    """Calls ``mgr.cleanup(resource)``."""

    __slots__ = ()

    def __init__(self, *, is_async: bool, **options: Any) -> None:
        super().__init__(**options)
        self._is_async = is_async

    def run(self, mgr: Any, resource: Any) -> Any:
        return mgr.cleanup(resource)


def resource_cleanup_trigger(upstream_states: Mapping[Edge, State]) -> bool:
    """Run the cleanup once every upstream finished, if the manager and the setup
    succeeded (otherwise there is nothing to clean up: the cleanup skips).

    The manager and the setup are the upstreams of the cleanup's ``mgr`` and
    ``resource`` data edges; every other upstream is a task of the block.
    """
    if not all(s.is_finished() for s in upstream_state_set(upstream_states)):
        raise TRIGGERFAIL(
            'Trigger was "resource_cleanup_trigger" but some of the upstream tasks were '
            "not finished."
        )
    for edge, state in upstream_states.items():
        what = {"mgr": "init", "resource": "setup"}.get(edge.key or "")
        if what is None:
            continue
        if state.is_skipped():
            raise SKIP(f"Resource manager {what} skipped")
        if not state.is_successful():
            raise SKIP(f"Resource manager {what} failed")
    return True


class ResourceContext:
    """The block a :class:`ResourceManager` call opens; entering it gives the setup task."""

    def __init__(self, init_task: Task[Any], setup_task: Task[Any],
                 cleanup_task: Task[Any], flow: Flow) -> None:
        self.init_task = init_task
        self.setup_task = setup_task
        self.cleanup_task = cleanup_task
        self._flow = flow
        self._tasks: dict[Task[Any], None] = {}
        self._tokens: list[Token[tuple[TaskBlock, ...]]] = []

    def add_task(self, task: Task[Any], flow: Flow) -> None:
        """Called by the flow for each task it gains while the block is open."""
        if flow is not self._flow:
            raise FlowDefinitionError(
                f"the {self.setup_task.name!r} block belongs to flow {self._flow.name!r}; "
                f"tasks of flow {flow.name!r} cannot be added inside it"
            )
        self._tasks[task] = None

    def __enter__(self) -> Task[Any]:
        self._tokens.append(open_blocks_var.set((*open_blocks_var.get(), self)))
        return self.setup_task

    def __exit__(self, *exc: object) -> None:
        open_blocks_var.reset(self._tokens.pop())
        if exc[0] is not None:
            return
        flow, members = self._flow, self._tasks
        setup, cleanup = self.setup_task, self.cleanup_task
        for child in list(members):
            upstream = flow.upstream_tasks(child)
            if setup not in upstream and not any(t in members for t in upstream):
                flow.add_edge(setup, child)
            downstream = flow.downstream_tasks(child)
            if cleanup not in downstream and not any(t in members for t in downstream):
                flow.add_edge(child, cleanup)


class ResourceManager:
    """Makes resource blocks from a class with ``setup(self)`` and ``cleanup(self,
    resource)`` methods (sync or async). Usually made with :func:`resource_manager`.

    ``name`` (default: the class name) names the three tasks (``name``, ``name.setup``,
    ``name.cleanup``); ``init_task_kwargs``, ``setup_task_kwargs`` and
    ``cleanup_task_kwargs`` are options for each task (``max_retries``, ``tags``, ...).
    """

    def __init__(
        self,
        resource_class: Callable[..., Any],
        *,
        name: str | None = None,
        init_task_kwargs: dict[str, Any] | None = None,
        setup_task_kwargs: dict[str, Any] | None = None,
        cleanup_task_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not callable(resource_class):
            raise FlowDefinitionError(
                f"@resource_manager decorates a class, got {resource_class!r}"
            )
        missing = [m for m in ("setup", "cleanup")
                   if not callable(getattr(resource_class, m, None))]
        if missing:
            raise FlowDefinitionError(
                f"@resource_manager class {getattr(resource_class, '__name__', resource_class)!r} "
                f"has no {' or '.join(missing)} method; give it setup(self) returning the "
                "resource and cleanup(self, resource) releasing it"
            )
        self.resource_class = resource_class
        self.name = name if name is not None else getattr(resource_class, "__name__", "resource")
        self.init_task_kwargs = dict(init_task_kwargs or {})
        self.setup_task_kwargs = dict(setup_task_kwargs or {})
        self.cleanup_task_kwargs = dict(cleanup_task_kwargs or {})
        self.init_task_kwargs.setdefault("name", self.name)
        self.setup_task_kwargs.setdefault("name", f"{self.name}.setup")
        self.cleanup_task_kwargs.setdefault("name", f"{self.name}.cleanup")
        self.cleanup_task_kwargs.setdefault("trigger", resource_cleanup_trigger)
        self.cleanup_task_kwargs.setdefault("skip_on_upstream_skip", False)
        self._setup_is_async = _is_async(resource_class.setup)  # type: ignore[attr-defined]
        self._cleanup_is_async = _is_async(resource_class.cleanup)  # type: ignore[attr-defined]

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> ResourceContext:
        """Add the manager's three tasks to the flow; use the result in a ``with``."""
        if flow is None:
            flow = building_flow_var.get()
        if flow is None:
            raise FlowDefinitionError(
                f"{self.name}(...) adds its setup and cleanup tasks to a flow: use it as "
                f"`with {self.name}(...) as resource:` inside `with Flow('name') as flow:`, "
                "or pass flow=..."
            )
        init = FunctionTask(self.resource_class, **self.init_task_kwargs)(
            *args, flow=flow, **kwargs
        )
        setup = ResourceSetupTask(is_async=self._setup_is_async, **self.setup_task_kwargs)
        flow.set_dependencies(setup, keyword_tasks={"mgr": init})
        cleanup = ResourceCleanupTask(is_async=self._cleanup_is_async,
                                      **self.cleanup_task_kwargs)
        flow.set_dependencies(cleanup, keyword_tasks={"mgr": init, "resource": setup})
        return ResourceContext(init, setup, cleanup, flow)

    def __repr__(self) -> str:
        return f"<ResourceManager: {self.name}>"


@overload
def resource_manager(resource_class: Callable[..., Any], /) -> ResourceManager: ...


@overload
def resource_manager(
    resource_class: None = None, /, *, name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], ResourceManager]: ...


def resource_manager(
    resource_class: Callable[..., Any] | None = None, /, *, name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> ResourceManager | Callable[[Callable[..., Any]], ResourceManager]:
    """Make a :class:`ResourceManager` from a class, bare (``@resource_manager``) or with
    options (``@resource_manager(name="db")``)."""

    def decorate(cls: Callable[..., Any]) -> ResourceManager:
        return ResourceManager(cls, name=name, init_task_kwargs=init_task_kwargs,
                               setup_task_kwargs=setup_task_kwargs,
                               cleanup_task_kwargs=cleanup_task_kwargs)

    return decorate if resource_class is None else decorate(resource_class)
