"""Tasks: units of work that a flow wires together and runs.

A task is either a function decorated with :func:`task` or a subclass of :class:`Task`
that implements ``run``; both may be ``async def`` or plain ``def`` (plain bodies run in
worker threads, so they never block the event loop)::

    @task(max_retries=2, retry_delay=1)
    async def fetch(url): ...

    class AddTask(Task):
        def run(self, x, y):
            return x + y
"""

from __future__ import annotations

import datetime
import inspect
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypedDict, overload

from typing_extensions import ParamSpec, TypeVar as DefaultTypeVar, Unpack

from ._edges import building_flow_var
from ._exceptions import FlowDefinitionError, TaskArgumentError
from ._options import (
    convert_result_handler,
    exception_types,
    handler_list,
    to_seconds,
)
from ._slots import slots_of
from ._task_operators import TaskOperators

if TYPE_CHECKING:
    from .._results._base import Result
    from ._flow import Flow

P = ParamSpec("P")
#: What a task's run produces; covariant, so a ``Task[bool]`` is a ``Task[int]``.
R = DefaultTypeVar("R", default=Any, covariant=True)
T = DefaultTypeVar("T")

_TASK_SLOTS = (
    "name",
    "slug",
    "tags",
    "max_retries",
    "retry_delay",
    "retry_on",
    "timeout",
    "trigger",
    "skip_on_upstream_skip",
    "cache_for",
    "cache_validator",
    "cache_key",
    "checkpoint",
    "result",
    "target",
    "state_handlers",
    "task_run_name",
    "log_stdout",
    "_is_async",
    "_inline",
    "_signature_cache",
    "_bind_plan",
)


class _BindPlan:
    """What binding call arguments needs to know of a signature, computed once."""

    __slots__ = ("positional", "names", "required", "simple")

    def __init__(self, sig: inspect.Signature) -> None:
        kinds = inspect.Parameter
        params = list(sig.parameters.values())
        self.simple = all(
            p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY) for p in params
        )
        self.positional = tuple(p.name for p in params if p.kind is kinds.POSITIONAL_OR_KEYWORD)
        self.names = frozenset(p.name for p in params)
        self.required = frozenset(p.name for p in params if p.default is kinds.empty)


def _default_trigger() -> Callable[..., Any]:
    from ._triggers import all_successful

    return all_successful


class Task(TaskOperators, Generic[R]):
    """A unit of work. Subclass it and implement ``run``, or use the :func:`task` decorator.

    Options (all keyword-only):

    - ``name``, ``slug``, ``tags``: how the task is known; ``slug`` is unique in a flow.
    - ``max_retries``, ``retry_delay`` (seconds or timedelta, required with retries),
      ``retry_on`` (exception types that retry; others fail at once).
    - ``timeout`` (seconds or timedelta): the run ends ``TimedOut`` at the deadline.
    - ``trigger``: a function of the upstream states deciding whether the task runs;
      ``skip_on_upstream_skip`` (default True) skips the task when an upstream skipped.
    - ``cache_for``, ``cache_validator``, ``cache_key``: reuse a recent result.
    - ``checkpoint``, ``result``, ``target``: whether, how and where the result is stored.
    - ``state_handlers``: callables ``(task, old_state, new_state)`` awaited in order on
      every transition; ``on_failure``: a callable ``(task, state)`` on failure.
    - ``log_stdout``: what the body prints goes to the task run's logger (at INFO), and
      so into the run history, instead of to standard output.
    """

    __slots__ = _TASK_SLOTS

    def __init__(
        self,
        name: str | None = None,
        *,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int = 0,
        retry_delay: float | datetime.timedelta | None = None,
        retry_on: type[BaseException] | Sequence[type[BaseException]] | None = None,
        timeout: float | datetime.timedelta | None = None,
        trigger: Callable[..., Any] | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: float | datetime.timedelta | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        result: Result | None = None,
        target: str | Callable[..., str] | None = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
        result_handler: Any = None,
        task_run_name: str | Callable[..., str] | None = None,
        log_stdout: bool = False,
    ) -> None:
        self.name = name if name is not None else type(self).__name__
        owner = f"task {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise FlowDefinitionError(f"task name must be a non-empty string, got {name!r}")
        self.slug = slug
        if isinstance(tags, str):
            raise FlowDefinitionError(f"{owner}: tags takes a list of strings, e.g. tags=[{tags!r}]")
        self.tags: frozenset[str] = frozenset(tags or ())
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise FlowDefinitionError(f"{owner}: max_retries must be an int >= 0, got {max_retries!r}")
        self.max_retries = max_retries
        self.retry_delay = to_seconds(retry_delay, "retry_delay", owner)
        if max_retries > 0 and self.retry_delay is None:
            raise FlowDefinitionError(
                f"{owner}: max_retries={max_retries} needs a retry_delay; "
                "write for example retry_delay=datetime.timedelta(seconds=5) (or 0)"
            )
        self.retry_on = exception_types(retry_on, owner)
        self.timeout = to_seconds(timeout, "timeout", owner)
        if self.timeout == 0:
            raise FlowDefinitionError(f"{owner}: timeout must be greater than 0")
        if trigger is None:
            trigger = _default_trigger()
        elif not callable(trigger):
            raise FlowDefinitionError(
                f"{owner}: trigger {trigger!r} is not callable; use one of asyncflow.triggers, "
                "e.g. trigger=triggers.all_finished"
            )
        self.trigger = trigger
        self.skip_on_upstream_skip = bool(skip_on_upstream_skip)
        self.cache_for = to_seconds(cache_for, "cache_for", owner)
        if cache_validator is not None and not callable(cache_validator):
            raise FlowDefinitionError(f"{owner}: cache_validator must be callable")
        if cache_validator is None and self.cache_for is not None:
            from ._cache_validators import duration_only

            cache_validator = duration_only
        self.cache_validator = cache_validator
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        self.result = convert_result_handler(result, result_handler, owner)
        if target is not None and not (isinstance(target, str) or callable(target)):
            raise FlowDefinitionError(
                f"{owner}: target must be a location template string or a callable, got {target!r}"
            )
        self.target = target
        self.state_handlers = handler_list(state_handlers, on_failure, owner)
        self.task_run_name = task_run_name
        self.log_stdout = bool(log_stdout)
        self._is_async = inspect.iscoroutinefunction(type(self).run)
        self._inline = False
        self._signature_cache: inspect.Signature | None = None
        self._bind_plan: _BindPlan | None = None
        if target is not None and self.result is not None and not self.result.persists:
            raise FlowDefinitionError(
                f"{owner}: target= needs a persisting result, such as "
                "result=LocalResult(dir=...); the in-memory Result cannot tell whether "
                "the target exists"
            )

    # ---- the body ----------------------------------------------------------------
    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The task's work. Subclasses implement it; it may be ``async def``."""
        return None

    def _body(self) -> Callable[..., Any]:
        return self.run

    def signature(self) -> inspect.Signature:
        """The signature of the task's body, checked when the task is called in a flow."""
        sig = self._signature_cache
        if sig is None:
            sig = self._signature_cache = inspect.signature(self._body())
        return sig

    # ---- copies ------------------------------------------------------------------
    def copy(self, **task_args: Any) -> Task[R]:
        """A copy of this task, with some options changed (``name``, ``tags``, ...)."""
        cls = type(self)
        new = cls.__new__(cls)
        for attr in slots_of(cls):
            setattr(new, attr, getattr(self, attr))
        own = getattr(self, "__dict__", None)
        if own:
            new.__dict__.update(own)
        if task_args:
            new.slug = None
            for key, value in task_args.items():
                if key not in _TASK_SLOTS or key.startswith("_"):
                    raise FlowDefinitionError(
                        f"task {self.name!r}: unknown task option {key!r} in task_args"
                    )
                if key == "tags":
                    value = frozenset(value)
                setattr(new, key, value)
        else:
            new.slug = None
        return new

    # ---- the functional API ------------------------------------------------------
    def __call__(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task[R]:
        """Inside ``with Flow(...)``: add a copy of this task, fed by the given inputs.

        Task arguments become data edges, other values constants, and
        ``upstream_tasks`` state-only edges. Returns the new task.
        """
        self._binding_plan()  # computed once on this task, shared by every copy
        return self.copy(**(task_args or {})).bind(
            *args, upstream_tasks=upstream_tasks, flow=flow, mapped=mapped, **kwargs
        )

    def bind(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        mapped: bool = False,
        **kwargs: Any,
    ) -> Task[R]:
        """Wire this very task (not a copy) into the flow with the given inputs; returns it.

        Calling a task (``t(x)``) is ``t.copy().bind(x)``; bind a task when it should
        appear in the flow once, as itself.
        """
        flow = self._flow_for_call(flow, "call")
        bound = self.bind_arguments(args, kwargs)
        flow.set_dependencies(
            self, upstream_tasks=upstream_tasks, keyword_tasks=bound, mapped=mapped
        )
        return self

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task[list[R]]:
        """Add a mapped copy: one child run per element of the mapped inputs.

        Wrap an input in :class:`unmapped` to give it whole to every child, or in
        :class:`flatten` to map over a list of lists flattened by one level.
        """
        flow = self._flow_for_call(flow, "map")
        self._binding_plan()
        return self.copy(**(task_args or {})).bind(  # type: ignore[return-value]
            *args, upstream_tasks=upstream_tasks, flow=flow, mapped=True, **kwargs
        )

    def _flow_for_call(self, flow: Flow | None, verb: str) -> Flow:
        if flow is None:
            flow = building_flow_var.get()
        if flow is None:
            hint = "task.run(...)" if type(self) is not FunctionTask else "the_task.fn(...)"
            raise FlowDefinitionError(
                f"task {self.name!r} was {'called' if verb == 'call' else 'mapped'} outside "
                f"a flow. Do it inside `with Flow('name') as flow:`, or pass flow=...; "
                f"to run the body directly, call {hint}"
            )
        return flow

    def _binding_plan(self) -> _BindPlan:
        plan = self._bind_plan
        if plan is None:
            plan = self._bind_plan = _BindPlan(self.signature())
        return plan

    def bind_arguments(self, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Match call arguments to the body's parameters; raise a clear error if they do not fit."""
        plan = self._binding_plan()
        if plan.simple and len(args) <= len(plan.positional):
            out = dict(zip(plan.positional, args, strict=False))  # args may be fewer
            fits = True
            for key, value in kwargs.items():
                if key in out or key not in plan.names:
                    fits = False
                    break
                out[key] = value
            if fits and plan.required <= out.keys():
                return out
        return self._bind_slowly(args, kwargs)

    def _bind_slowly(self, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        sig = self.signature()
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TaskArgumentError(
                f"task {self.name!r} cannot be called with these arguments: {exc}. "
                f"Its body's signature is {self.name}{_plain_signature(sig)}"
            ) from None
        out: dict[str, Any] = {}
        for pname, value in bound.arguments.items():
            kind = sig.parameters[pname].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                if value:
                    raise FlowDefinitionError(
                        f"task {self.name!r}: positional *{pname} arguments cannot be wired "
                        "in a flow; give the body named parameters instead"
                    )
                continue
            if kind is inspect.Parameter.VAR_KEYWORD:
                out.update(value)
            else:
                out[pname] = value
        return out

    def set_upstream(self, task: Task[Any], *, key: str | None = None, mapped: bool = False,
                     flow: Flow | None = None) -> None:
        """Make ``task`` run before this one (passing its result as ``key`` if given)."""
        flow = self._flow_for_call(flow, "call")
        flow.add_edge(task, self, key=key, mapped=mapped)

    def set_downstream(self, task: Task[Any], *, key: str | None = None, mapped: bool = False,
                       flow: Flow | None = None) -> None:
        """Make this task run before ``task``."""
        flow = self._flow_for_call(flow, "call")
        flow.add_edge(self, task, key=key, mapped=mapped)

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """The task's logger, ``asyncflow.task.<name>``; inside a run its records carry
        the flow and task run names as ``extra`` fields."""
        from ._context import get_logger

        return get_logger(f"asyncflow.task.{self.name}")

    # ---- display -------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    def __getstate__(self) -> dict[str, Any]:
        state = {attr: getattr(self, attr) for attr in slots_of(type(self))}
        state["_signature_cache"] = None
        state["_bind_plan"] = None
        state["__dict__"] = dict(getattr(self, "__dict__", {}))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        own = state.pop("__dict__", {})
        for key, value in state.items():
            setattr(self, key, value)
        if own:
            self.__dict__.update(own)


def _plain_signature(sig: inspect.Signature) -> str:
    """``(x, y=1)``: the signature without annotations, as users read it in errors."""
    empty = inspect.Parameter.empty
    params = [p.replace(annotation=empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=empty))


class FunctionTask(Task[R], Generic[P, R]):
    """A task whose body is a plain or ``async def`` function (made by :func:`task`).

    For type checkers ``P`` is the body's parameters and ``R`` what a run produces: the
    function's return type, with the coroutine of an ``async def`` unwrapped, so
    ``@task async def add(x: int) -> int`` is a ``FunctionTask[[x: int], int]`` and
    calling it in a flow gives a ``Task[int]``.
    """

    __slots__ = ("_fn",)

    @overload
    def __init__(self: FunctionTask[P, T], fn: Callable[P, Coroutine[Any, Any, T]],
                 name: str | None = None, **options: Any) -> None: ...

    @overload
    def __init__(self: FunctionTask[P, T], fn: Callable[P, T], name: str | None = None,
                 **options: Any) -> None: ...

    def __init__(self, fn: Callable[P, Any], name: str | None = None, **options: Any) -> None:
        if not callable(fn):
            raise FlowDefinitionError(
                f"@task decorates a function, got {fn!r}; write @task above a `def` or "
                "`async def`"
            )
        self._fn = fn
        if name is None:
            name = getattr(fn, "__name__", None) or type(fn).__name__
        super().__init__(name=name, **options)
        self._is_async = _is_async_callable(fn)

    @property
    def fn(self) -> Callable[P, Any]:
        """The decorated function (typed with its parameters; its return is not unwrapped,
        so it reads as ``Any``)."""
        return self._fn

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def _body(self) -> Callable[..., Any]:
        return self._fn


def _is_async_callable(fn: Any) -> bool:
    while hasattr(fn, "func") and hasattr(fn, "args"):  # functools.partial
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or (
        not inspect.isfunction(fn) and inspect.iscoroutinefunction(type(fn).__call__)
    )


class TaskOptions(TypedDict, total=False):
    """The options of :class:`Task` as keywords of ``@task(...)``, so that type checkers
    check their names and types (``@task(max_retry=2)`` is an error)."""

    name: str | None
    slug: str | None
    tags: Iterable[str] | None
    max_retries: int
    retry_delay: float | datetime.timedelta | None
    retry_on: type[BaseException] | Sequence[type[BaseException]] | None
    timeout: float | datetime.timedelta | None
    trigger: Callable[..., Any] | None
    skip_on_upstream_skip: bool
    cache_for: float | datetime.timedelta | None
    cache_validator: Callable[..., bool] | None
    cache_key: str | None
    checkpoint: bool | None
    result: Result | None
    target: str | Callable[..., str] | None
    state_handlers: Iterable[Callable[..., Any]] | None
    on_failure: Callable[..., Any] | None
    result_handler: Any
    task_run_name: str | Callable[..., str] | None
    log_stdout: bool


class TaskDecorator(Protocol):
    """What ``@task(...)`` with options returns: a decorator making a :class:`FunctionTask`."""

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, T]], /) -> FunctionTask[P, T]: ...

    @overload
    def __call__(self, fn: Callable[P, T], /) -> FunctionTask[P, T]: ...


@overload
def task(fn: Callable[P, Coroutine[Any, Any, T]], /) -> FunctionTask[P, T]: ...


@overload
def task(fn: Callable[P, T], /) -> FunctionTask[P, T]: ...


@overload
def task(fn: None = None, /, **options: Unpack[TaskOptions]) -> TaskDecorator: ...


def task(fn: Callable[P, Any] | None = None, /, **options: Any) -> Any:
    """Make a task from a function, bare (``@task``) or with options (``@task(name=...)``).

    The options are those of :class:`Task`; type checkers check their names and types
    (``@task(max_retry=2)`` is an error for mypy and pyright).
    """
    if fn is None:

        def decorator(func: Callable[P, Any]) -> FunctionTask[P, Any]:
            return FunctionTask(func, **options)

        return decorator
    if options:
        raise TypeError("write @task(...) with options as keywords only")
    return FunctionTask(fn)
