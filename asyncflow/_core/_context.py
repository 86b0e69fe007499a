"""The run context: what a running task or handler knows about its run.

Backed by :mod:`contextvars`, so every task run sees its own values, also inside the
worker thread that runs a sync task body. Read it through :data:`asyncflow.context`::

    from asyncflow import context

    @task
    async def report():
        context.logger.info("run %s, attempt %s", context.flow_run_id, context.task_run_count)

Flow-run keys: ``flow_name``, ``flow_run_id``, ``flow_run_name``, ``parameters``,
``scheduled_start_time``, ``date`` and the day keys derived from it (``today``,
``yesterday``, ``tomorrow`` and their ``*_nodash`` forms), ``config``, ``secrets``, and
whatever was passed as ``flow.run(context=...)``. Task-run keys: ``task_name``,
``task_full_name``, ``task_slug``, ``task_tags``, ``task_run_id``, ``task_run_count``,
``map_index``, ``task_loop_count``, ``task_loop_result``. Plus ``logger``.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from . import _log_capture
from ._run_vars import flow_run_var as flow_run_var, task_run_var as task_run_var
from ._sentinel import sentinel

if TYPE_CHECKING:
    from ._resources import RunResources
    from ._task import Task

# "No such key"; it unpickles as itself, so absent keys stay absent on a Dask worker.
_MISSING: Any = sentinel("missing")

TASK_KEYS = (
    "task_name",
    "task_full_name",
    "task_slug",
    "task_tags",
    "task_run_id",
    "task_run_count",
    "map_index",
    "task_loop_count",
    "task_loop_result",
)
DATE_KEYS = (
    "today",
    "yesterday",
    "tomorrow",
    "today_nodash",
    "yesterday_nodash",
    "tomorrow_nodash",
)


class FlowRunContext:
    """What every task of one flow run shares."""

    __slots__ = ("flow", "resources", "values")

    def __init__(self, values: dict[str, Any], resources: RunResources, flow: Any) -> None:
        self.values = values
        self.resources = resources
        self.flow = flow


class TaskRunContext:
    """What one task run (one attempt of one task, or of one mapped child) knows."""

    __slots__ = (
        "_run_id",
        "current",
        "loop_count",
        "loop_result",
        "map_index",
        "run_count",
        "task",
    )

    #: How many task run ids the process has made: while it stays the same, no task run
    #: has one, and a run's observers need not look.
    ids_made: ClassVar[int] = 0

    def __init__(
        self,
        task: Task[Any],
        map_index: int | None,
        run_count: int,
        loop_count: int = 0,
        loop_result: Any = _MISSING,
    ) -> None:
        self.task = task
        self.map_index = map_index
        self.run_count = run_count
        self.loop_count = loop_count
        self.loop_result = loop_result
        self._run_id: str | None = None
        self.current: Any = None

    @property
    def task_run_id(self) -> str:
        """A unique id for this task run, made on first use (each mapped child has its own)."""
        run_id = self._run_id
        if run_id is None:
            run_id = self._run_id = str(uuid.uuid4())
            TaskRunContext.ids_made += 1
        return run_id

    def get(self, key: str) -> Any:
        task = self.task
        if key == "task_name":
            return task.name
        if key == "task_full_name":
            if self.map_index is None:
                return task.name
            return f"{task.name}[{self.map_index}]"
        if key == "task_slug":
            return task.slug
        if key == "task_tags":
            return task.tags
        if key == "task_run_id":
            return self.task_run_id
        if key == "task_run_count":
            return self.run_count
        if key == "map_index":
            return self.map_index
        if key == "task_loop_count":
            return self.loop_count
        if key == "task_loop_result":
            return self.loop_result
        return _MISSING


_overlay_var: ContextVar[Mapping[str, Any] | None] = ContextVar("asyncflow_overlay", default=None)


def _date_key(date: datetime.datetime, key: str) -> str:
    day = date.date()
    if key.startswith("yesterday"):
        day -= datetime.timedelta(days=1)
    elif key.startswith("tomorrow"):
        day += datetime.timedelta(days=1)
    if key.endswith("_nodash"):
        return day.strftime("%Y%m%d")
    return day.isoformat()


class Context:
    """Read-only, attribute- and item-style access to the current run's context."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` in the current context, or ``default``."""
        value = self._lookup(key)
        return default if value is _MISSING else value

    def _lookup(self, key: str) -> Any:
        overlay = _overlay_var.get()
        if overlay is not None and key in overlay:
            return overlay[key]
        task_ctx = task_run_var.get()
        if task_ctx is not None:
            value = task_ctx.get(key)
            if value is not _MISSING:
                return value
        elif key in TASK_KEYS:
            return None if key == "map_index" else _MISSING
        flow_ctx = flow_run_var.get()
        if flow_ctx is not None:
            values = flow_ctx.values
            if key in values:
                return values[key]
            if key in DATE_KEYS and "date" in values:
                return _date_key(values["date"], key)
        if key == "logger":
            return get_logger()
        return _MISSING

    def __getitem__(self, key: str) -> Any:
        value = self._lookup(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        value = self._lookup(key)
        if value is _MISSING:
            if key in TASK_KEYS:
                # A task key with no value yet (task_loop_result before any LOOP) reads
                # as None here; get(key, default) and ``in`` treat it as absent.
                return None
            raise AttributeError(
                f"the run context has no key {key!r}; "
                f"use context.get({key!r}) to get None when it is absent"
            )
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not _MISSING

    def to_dict(self) -> dict[str, Any]:
        """A snapshot of every key visible now (the logger excluded)."""
        out: dict[str, Any] = {}
        flow_ctx = flow_run_var.get()
        if flow_ctx is not None:
            out.update(flow_ctx.values)
            if "date" in out:
                for key in DATE_KEYS:
                    out[key] = _date_key(out["date"], key)
        task_ctx = task_run_var.get()
        if task_ctx is not None:
            for key in TASK_KEYS:
                value = task_ctx.get(key)
                if value is not _MISSING:
                    out[key] = value
        overlay = _overlay_var.get()
        if overlay is not None:
            out.update(overlay)
        return out

    def keys(self) -> list[str]:
        return list(self.to_dict())

    @contextmanager
    def __call__(self, **values: Any) -> Iterator[Context]:
        """Add or override keys for the code in the ``with`` block (and tasks run in it)."""
        current = _overlay_var.get()
        merged = {**current, **values} if current else values
        token = _overlay_var.set(merged)
        try:
            yield self
        finally:
            _overlay_var.reset(token)

    def __repr__(self) -> str:
        return f"<Context keys={sorted(self.to_dict())}>"


#: The run context of the running flow and task (``asyncflow.context``), on contextvars.
context = Context()


class _RunLoggerAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = kwargs.setdefault("extra", {})
        extra.update(self.extra or {})
        return msg, kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        # While a run's logs are captured (see _log_capture), records go there too.
        if _log_capture.capturing():
            shown = _log_capture.shows(self.logger, level)
            if shown:  # else the line is only captured
                msg, kwargs = self.process(msg, kwargs)
            _log_capture.log_and_capture(self.logger, level, msg, args, kwargs,
                                         task_run_var.get(), flow_run_var.get(), shown)
        elif self.logger.isEnabledFor(level):
            msg, kwargs = self.process(msg, kwargs)
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # name the caller
            self.logger.log(level, msg, *args, **kwargs)


def get_logger(name: str | None = None) -> logging.LoggerAdapter:  # type: ignore[type-arg]
    """A logger for the current task or flow run, carrying its names as ``extra`` fields."""
    task_ctx = task_run_var.get()
    flow_ctx = flow_run_var.get()
    extra: dict[str, Any] = {}
    if flow_ctx is not None:
        extra["flow_name"] = flow_ctx.values.get("flow_name")
        extra["flow_run_id"] = flow_ctx.values.get("flow_run_id")
    if name is None:
        if task_ctx is not None:
            name = f"asyncflow.task.{task_ctx.task.name}"
            extra["task_full_name"] = task_ctx.get("task_full_name")
        elif flow_ctx is not None:
            name = f"asyncflow.flow.{flow_ctx.values.get('flow_name')}"
        else:
            name = "asyncflow"
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = logging.getLogger(name)
    return _RunLoggerAdapter(logger, extra)


#: Loggers by name: ``logging.getLogger`` takes a lock, and a task may log on every call.
_loggers: dict[str, logging.Logger] = {}


_raise_on_exception_var: ContextVar[bool] = ContextVar("asyncflow_raise_on_exception",
                                                      default=False)


def raising_on_exception() -> bool:
    """Whether task errors should propagate out of the run (see
    :func:`asyncflow.testing.raise_on_exception`)."""
    return _raise_on_exception_var.get()


@contextmanager
def raise_on_exception() -> Iterator[None]:
    """Inside the block, an exception raised by a task body or trigger propagates out of
    ``flow.run`` instead of ending the task ``Failed``: for debugging and tests."""
    token = _raise_on_exception_var.set(True)
    try:
        yield
    finally:
        _raise_on_exception_var.reset(token)


def current_flow_run() -> FlowRunContext | None:
    """The flow run the caller is part of, or None outside a run."""
    return flow_run_var.get()


def current_task_run() -> TaskRunContext | None:
    """The task run the caller is part of, or None outside a task."""
    return task_run_var.get()
