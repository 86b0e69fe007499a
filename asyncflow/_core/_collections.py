"""Collections of tasks passed as one argument: ``reduce([a, b, c])`` or ``f({"k": t})``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._task import Task

if TYPE_CHECKING:
    from ._flow import Flow


class _CollectionTask(Task[Any]):
    """Builds a list, tuple, set or dict from its inputs; runs on the loop, no thread."""

    __slots__ = ("_keys", "_kind")

    def __init__(self, kind: type, keys: list[Any]) -> None:
        super().__init__(name=kind.__name__.capitalize())
        self._kind = kind
        self._keys = keys
        self._inline = True

    def run(self, **items: Any) -> Any:
        values = [items[f"arg_{i}"] for i in range(len(self._keys))]
        if self._kind is dict:
            return dict(zip(self._keys, values, strict=True))
        return self._kind(values)


def _holds_task(value: Any) -> bool:
    if isinstance(value, dict):
        return any(isinstance(v, Task) or _holds_task(v) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return any(isinstance(v, Task) or _holds_task(v) for v in value)
    return False


def collection_task(value: Any, flow: Flow) -> Any:
    """``value`` itself, or a collection task built in ``flow`` if it contains tasks."""
    if isinstance(value, Task) or not _holds_task(value):
        return value
    if isinstance(value, dict):
        keys = list(value)
        items = list(value.values())
        kind: type = dict
    else:
        items = list(value)
        keys = list(range(len(items)))
        kind = type(value) if type(value) in (list, tuple, set) else list
    node = _CollectionTask(kind, keys)
    flow.set_dependencies(node, keyword_tasks={f"arg_{i}": v for i, v in enumerate(items)})
    return node
