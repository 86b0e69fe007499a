"""Running one task (or one mapped child) through its states.

The sequence for a task run, each transition passed through the task's state handlers:

1. ``Pending -> Skipped`` if an upstream skipped (and ``skip_on_upstream_skip``);
2. ``Pending -> TriggerFailed`` (or ``Paused``) if the trigger refuses;
3. ``Pending -> Cached`` if the target exists or a valid cached state is found;
4. ``Pending -> Running``, the body, then ``Running -> Success | Failed | TimedOut |
   Skipped | Looped | Paused | Retrying``; a Success is persisted first when
   checkpointing applies;
5. a failure with retries left: ``Failed -> Retrying``, a non-blocking wait, then
   ``Retrying -> Running``; a loop: ``Looped -> Running``;
6. with ``cache_for``: ``Success -> Cached``.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import inspect
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import anyio.to_thread

from . import _cache_store
from ._context import TaskRunContext, context, get_logger, raising_on_exception, task_run_var
from ._exceptions import AsyncflowError, LocationError
from ._executor import LocalExecutor, Persisted, PersistRequest, TaskTimeoutError
from ._handlers import call_state_handlers
from ._limits import Limiter, limiters_for
from ._print_capture import capture_prints, release_prints
from ._signals import ENDRUN, PAUSE, RETRY, SKIP, Signal
from ._states import (
    Cached,
    Cancelled,
    Failed,
    Looped,
    Mapped,
    Pending,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from ._triggers import all_successful

if TYPE_CHECKING:
    from .._results._base import Result
    from ._edges import Edge
    from ._task import Task

logger = logging.getLogger("asyncflow.engine")

Observer = Callable[[Any, State, State], None]

_utcnow = functools.partial(datetime.datetime.now, datetime.timezone.utc)


class TaskRunner:
    """Runs task runs for one flow run; holds what every task run of that run shares."""

    def __init__(
        self,
        *,
        flow: Any,
        parameters: Mapping[str, Any],
        checkpointing: bool,
        body_limiter: Limiter | None,
        tag_registry: Mapping[str, Limiter],
        thread_limiter: anyio.CapacityLimiter,
        observers: Sequence[Observer],
        executor: Any,
        cancel_handler_timeout: float,
    ) -> None:
        self.flow = flow
        self.flow_result: Result | None = flow.result
        self.parameters = parameters
        self.checkpointing = checkpointing
        self.body_limiter = body_limiter
        self.tag_registry = tag_registry
        self.thread_limiter = thread_limiter
        self.observers = tuple(observers)
        self.executor = None if executor is None or isinstance(executor, LocalExecutor) else executor
        self.cancel_handler_timeout = cancel_handler_timeout
        self._tag_cache: dict[frozenset[str], tuple[Limiter, ...]] = {}
        # Bodies may be awaited directly: local executor and no run-wide limit.
        self._direct = self.executor is None and body_limiter is None
        self._persisted: set[int] = set()

    # ---- transitions ----------------------------------------------------------------
    async def transition(self, obj: Any, old: State, new: State) -> State:
        """Pass ``old -> new`` through the handlers of ``obj`` (a task or the flow) and
        the run's observers."""
        handlers = obj.state_handlers
        if handlers:
            new = await call_state_handlers(obj, old, new, handlers)
        for observer in self.observers:
            observer(obj, old, new)
        return new

    async def _to(self, tctx: TaskRunContext, new: State) -> State:
        task = tctx.task
        if task.state_handlers:
            new = await self.transition(task, tctx.current, new)
        elif self.observers:
            old = tctx.current
            for observer in self.observers:
                observer(task, old, new)
        tctx.current = new
        return new

    async def shielded_transition(self, task: Task[Any], old: State, new: State) -> State:
        """A transition that runs even while the run is being cancelled, bounded in time."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(self.cancel_handler_timeout):
            return await self.transition(task, old, new)
        return new

    # ---- one task run ---------------------------------------------------------------
    async def run(
        self,
        task: Task[Any],
        upstream_states: Sequence[State],
        inputs: dict[str, Any],
        map_index: int | None = None,
        initial: State | None = None,
        resume: bool = False,
        sink: list[Any] | None = None,
        slot: int = 0,
        upstream_edges: Sequence[Edge] = (),
    ) -> State:
        """Run ``task`` to a final state (or Paused), given its upstream states and inputs.

        ``upstream_edges`` are the edges the upstream states arrived by, in the same order
        (a trigger receives them as a dict).

        If the run is cancelled, the task moves to ``Cancelled`` (handlers are awaited,
        shielded and bounded in time), that state is stored at ``sink[slot]``, and the
        cancellation propagates.
        """
        tctx = TaskRunContext(task, map_index, 1, 1)
        if initial is None:
            observed = task.state_handlers or self.observers
            initial = Pending(map_index=map_index) if map_index is not None and observed else _PENDING
        tctx.current = initial
        token = task_run_var.set(tctx)
        prints = capture_prints(get_logger()) if task.log_stdout else None
        try:
            return await self._run(task, tctx, upstream_edges, upstream_states, inputs, resume)
        except asyncio.CancelledError:
            current = tctx.current
            if not isinstance(current, Cancelled):  # the run had not returned: not final
                cancelled = Cancelled("Task run was cancelled.", map_index=map_index,
                                      run_count=tctx.run_count)
                current = await self.shielded_transition(task, current, cancelled)
            if sink is not None:
                sink[slot] = current
            raise
        finally:
            if prints is not None:
                release_prints(prints)
            task_run_var.reset(token)

    async def _run(
        self,
        task: Task[Any],
        tctx: TaskRunContext,
        upstream_edges: Sequence[Edge],
        upstream_states: Sequence[State],
        inputs: dict[str, Any],
        resume: bool,
    ) -> State:
        map_index = tctx.map_index
        # 1-2: upstream skips and the trigger.
        if upstream_states or task.trigger is not all_successful:
            refused = self.check_upstream(task, upstream_edges, upstream_states, map_index,
                                          resume)
            if refused is not None:
                return await self._to(tctx, refused)
        # 3: targets and caches.
        if task.target is not None or task.cache_for is not None:
            found = await self._check_cached(task, inputs, tctx)
            if found is not None:
                return await self._to(tctx, found)

        run_count = 1
        while True:
            tctx.run_count = run_count
            if map_index is None and run_count == 1 and not task.state_handlers:
                # Equal for every such run, and no handler can change it: one shared.
                running = _FIRST_RUNNING
            elif task.state_handlers or self.observers:
                running = Running("Starting task run.", map_index=map_index,
                                  run_count=run_count)
            else:  # nobody sees it: no need for a state of its own
                running = _RUNNING
            state = await self._to(tctx, running)
            if not isinstance(state, Running):
                return state
            if (task._is_async and task.timeout is None and self._direct
                    and not (task.tags and self.tag_registry)):
                # The common case, inline: an async body on the loop, no limits.
                new: State
                try:
                    new = Success("Task run succeeded.", await task._body()(**inputs),
                                  map_index=map_index, run_count=run_count)
                except BaseException as exc:
                    new = self._failure(exc, task, tctx)
            else:
                new = await self._execute(task, inputs, tctx)
            if (type(new) is Success and self.checkpointing
                    and (task.result is not None or self.flow_result is not None)):
                new = await self._persist(task, new, inputs, tctx)
            state = await self._to(tctx, new)

            if isinstance(state, Looped):
                tctx.loop_count += 1
                tctx.loop_result = state.result
                continue
            if (
                isinstance(state, Failed)
                and not isinstance(state, TriggerFailed)
                and run_count <= task.max_retries
                and _should_retry(task, state)
            ):
                delay = task.retry_delay or 0.0
                retrying = Retrying(
                    f"Retrying task run (attempt {run_count + 1} of "
                    f"{task.max_retries + 1}) after: {state.message}",
                    result=state.result,
                    start_time=_utcnow() + datetime.timedelta(seconds=delay),
                    run_count=run_count,
                    map_index=map_index,
                )
                state = await self._to(tctx, retrying)
                if not isinstance(state, Retrying):
                    return state
            if isinstance(state, Retrying):
                await _wait_until(state.start_time)
                run_count += 1
                continue
            if task.cache_for is not None and type(state) is Success:
                state = await self._to(tctx, self._cache(task, state, inputs))
            return state

    # ---- checks before running --------------------------------------------------------
    def check_upstream(
        self,
        task: Task[Any],
        edges: Sequence[Edge],
        upstream_states: Sequence[State],
        map_index: int | None,
        resume: bool,
    ) -> State | None:
        """The state ``task`` ends in before running because of its upstream states
        (Skipped, TriggerFailed, Paused, ...), or None when it may run.

        A mapped upstream reached by an edge that is not mapped counts as its children.
        """
        trigger = task.trigger
        if trigger is all_successful:
            for s in upstream_states:
                if type(s) is not Success:
                    break
            else:  # the common case: every upstream a plain Success, nothing to ask
                return None
        if task.skip_on_upstream_skip:
            if len(edges) == len(upstream_states):
                skipped = any(skips_downstream(s, e.mapped) for e, s in zip(edges, upstream_states,
                                                                      strict=True))
            else:
                skipped = any(skips_downstream(s, False) for s in upstream_states)
            if skipped:
                return Skipped("Upstream task was skipped; if this was not the intent, "
                               "set skip_on_upstream_skip=False.", map_index=map_index)
        given: Any = dict(zip(edges, upstream_states, strict=True)) if len(edges) == len(
            upstream_states) else list(upstream_states)
        try:
            if resume:
                with context(resume=True):
                    ok = trigger(given)
            else:
                ok = trigger(given)
        except Signal as sig:
            return _state_from_signal(sig, map_index, 0)
        except Exception as exc:
            if raising_on_exception():
                raise
            return TriggerFailed(
                f"Unexpected error while checking the trigger "
                f"{getattr(trigger, '__name__', trigger)!r}: {exc!r}",
                result=exc, map_index=map_index,
            )
        if not ok:
            return TriggerFailed(
                f"Trigger {getattr(trigger, '__name__', 'trigger')!r} returned False.",
                map_index=map_index,
            )
        return None

    async def _check_cached(
        self, task: Task[Any], inputs: dict[str, Any], tctx: TaskRunContext
    ) -> State | None:
        if task.target is not None:
            result = self._result_for(task)
            if result is not None and result.persists:
                kwargs = self._format_kwargs(inputs)
                located = result.copy()
                located.location = task.target
                try:
                    located = located.format(**kwargs)
                    where = str(located.location)
                    if await located.exists(where):  # already formatted
                        loaded = await located.read(where)
                        found = Cached(
                            f"Result found at task target {loaded.location}",
                            map_index=tctx.map_index,
                        )
                        found._result = loaded
                        return found
                except AsyncflowError as exc:
                    return Failed(f"Task {task.name!r} could not check its target: {exc}",
                                  result=exc, map_index=tctx.map_index)
        if task.cache_for is not None and task.cache_validator is not None:
            key = self._cache_key(task, tctx.map_index)
            for candidate in _cache_store.candidates(key):
                if task.cache_validator(candidate, inputs, self.parameters):
                    hit = Cached(
                        candidate.message or "Cached result found.",
                        cached_inputs=candidate.cached_inputs,
                        cached_parameters=candidate.cached_parameters,
                        cached_result_expiration=candidate.cached_result_expiration,
                        map_index=tctx.map_index,
                    )
                    hit._result = candidate._result
                    return hit
        return None

    def _cache_key(self, task: Task[Any], map_index: int | None) -> tuple[Any, ...]:
        base = task.cache_key or (self.flow.name, task.slug)
        return (base, map_index)

    def _cache(self, task: Task[Any], state: State, inputs: dict[str, Any]) -> Cached:
        cached = Cached(
            "Task run succeeded; its result is cached.",
            cached_inputs=dict(inputs),
            cached_parameters=dict(self.parameters),
            cached_result_expiration=_utcnow()
            + datetime.timedelta(seconds=task.cache_for or 0.0),
            map_index=state.map_index,
            run_count=state.run_count,
        )
        cached._result = state._result
        _cache_store.store(self._cache_key(task, state.map_index), cached)
        return cached

    # ---- the body ---------------------------------------------------------------------
    async def _execute(
        self, task: Task[Any], inputs: dict[str, Any], tctx: TaskRunContext
    ) -> State:
        map_index = tctx.map_index
        run_count = tctx.run_count
        limiters = self._limiters(task)
        acquired = 0
        try:
            for limiter in limiters:
                await limiter.acquire()
                acquired += 1
            if self.executor is None:
                value = await self._call_body(task, inputs)
            else:
                value = await self._submit(task, inputs)
        except BaseException as exc:
            return self._failure(exc, task, tctx)
        finally:
            for limiter in limiters[:acquired]:
                limiter.release()
        if type(value) is Persisted:
            done = Success("Task run succeeded.", map_index=map_index, run_count=run_count)
            done._result = value.result
            self._persisted.add(id(done))
            return done
        return Success("Task run succeeded.", value, map_index=map_index, run_count=run_count)

    @staticmethod
    def _failure(exc: BaseException, task: Task[Any], tctx: TaskRunContext) -> State:
        """The state a body's exception ends the run in; cancellation and exits propagate."""
        map_index = tctx.map_index
        run_count = tctx.run_count
        if isinstance(exc, Signal):
            return _state_from_signal(exc, map_index, run_count, tctx.loop_count)
        if isinstance(exc, ENDRUN):
            return exc.state
        if isinstance(exc, TaskTimeoutError):
            return TimedOut(f"Task timed out after {task.timeout:g}s.", map_index=map_index,
                            run_count=run_count)
        if isinstance(exc, Exception):
            if raising_on_exception():
                raise exc
            return Failed(f"Error during execution of task: {exc!r}", result=exc,
                          map_index=map_index, run_count=run_count)
        raise exc  # CancelledError, KeyboardInterrupt, SystemExit

    async def _submit(self, task: Task[Any], inputs: dict[str, Any]) -> Any:
        """Send the body to the executor, asking it to persist where the value is."""
        body = task._body()
        if task._inline:
            return body(**inputs)
        persist = None
        result = self._result_for(task)
        if (result is not None and result.persists and task.checkpoint is not False
                and self.checkpointing):
            target = result
            if task.target is not None:
                target = result.copy()
                target.location = task.target
            persist = PersistRequest(target, self._format_kwargs(inputs))
        assert self.executor is not None
        return await self.executor.submit(task, body, inputs, timeout=task.timeout,
                                          persist=persist)

    def _limiters(self, task: Task[Any]) -> tuple[Limiter, ...]:
        tags = task.tags
        if tags and self.tag_registry:
            found = self._tag_cache.get(tags)
            if found is None:
                found = self._tag_cache[tags] = limiters_for(tags, self.tag_registry)
        else:
            found = ()
        if self.body_limiter is not None:
            return (self.body_limiter, *found)
        return found

    async def _call_body(self, task: Task[Any], inputs: dict[str, Any]) -> Any:
        body = task._body()
        if task._inline:
            return body(**inputs)
        timeout = task.timeout
        if task._is_async:
            if timeout is None:
                return await body(**inputs)
            with anyio.move_on_after(timeout) as scope:
                return await body(**inputs)
            if scope.cancelled_caught:
                raise TaskTimeoutError
            raise AssertionError("unreachable")  # pragma: no cover
        call = functools.partial(body, **inputs) if inputs else body
        if timeout is None:
            value = await anyio.to_thread.run_sync(call, limiter=self.thread_limiter)
        else:
            with anyio.move_on_after(timeout) as scope:
                value = await anyio.to_thread.run_sync(
                    call, limiter=self.thread_limiter, abandon_on_cancel=True
                )
            if scope.cancelled_caught:
                warnings.warn(
                    f"task {task.name!r} timed out after {timeout:g}s; its sync body cannot "
                    "be interrupted, so its worker thread was abandoned and may still be "
                    "running. Make the body async to have it cancelled.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                raise TaskTimeoutError
        if inspect.iscoroutine(value):  # a sync callable that hands back a coroutine
            value = await value
        return value

    # ---- results ----------------------------------------------------------------------
    def _result_for(self, task: Task[Any]) -> Result | None:
        result = task.result
        return result if result is not None else self.flow_result

    def _format_kwargs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Template keys: the flow's parameters, then the context, then the task's inputs."""
        return {**self.parameters, **context.to_dict(), **inputs}

    async def _persist(
        self, task: Task[Any], state: State, inputs: dict[str, Any], tctx: TaskRunContext
    ) -> State:
        result = self._result_for(task)
        if (
            result is None
            or id(state) in self._persisted
            or not result.persists
            or task.checkpoint is False
            or not self.checkpointing
        ):
            return state
        kwargs = self._format_kwargs(inputs)
        target = result
        if task.target is not None:
            target = result.copy()
            target.location = task.target
        try:
            written = await target.write(state.result, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            where = _describe_location(target, kwargs)
            return Failed(
                f"Task {task.name!r} could not write its result with "
                f"{type(result).__name__} to {where}: {exc}",
                result=exc, map_index=tctx.map_index, run_count=tctx.run_count,
            )
        state._result = written
        return state


_PENDING = Pending()
_RUNNING = Running("Starting task run.")
_FIRST_RUNNING = Running("Starting task run.", run_count=1)


def _should_retry(task: Task[Any], state: State) -> bool:
    retry_on = task.retry_on
    if retry_on is None:
        return True
    exc = state.result
    return isinstance(exc, retry_on)


def skips_downstream(state: State, by_mapped_edge: bool) -> bool:
    """Whether an upstream state skips its downstream: a mapped upstream reached by an
    edge that is not mapped skips it when any child skipped."""
    if isinstance(state, Mapped) and not by_mapped_edge:
        return any(isinstance(c, Skipped) for c in state.map_states)
    return isinstance(state, Skipped)


def _state_from_signal(sig: Signal, map_index: int | None, run_count: int,
                       loop_count: int | None = None) -> State:
    """The state a signal ends a task run in: a copy of ``sig.state`` for this run."""
    state = sig.state.copy()
    state.map_index = map_index
    state.run_count = run_count
    if isinstance(state, Looped):
        if loop_count is not None:
            state.loop_count = loop_count
        if state.message is None:
            state.message = f"Looping (loop {state.loop_count})."
    elif state.message is None:
        state.message = _SIGNAL_MESSAGES.get(type(sig))
    return state


_SIGNAL_MESSAGES: dict[type[Signal], str] = {
    RETRY: "Retry signal raised.",
    PAUSE: "Task paused.",
    SKIP: "Task skipped.",
}


async def _wait_until(when: datetime.datetime | None) -> None:
    if when is None:
        await anyio.lowlevel.checkpoint()
        return
    delay = (when - _utcnow()).total_seconds()
    await anyio.sleep(max(delay, 0.0))


def _describe_location(result: Result, kwargs: Mapping[str, Any]) -> str:
    try:
        location = result.format(**kwargs).location
    except (LocationError, Exception):
        location = result.location
    return repr(location) if location is not None else "its default location"
