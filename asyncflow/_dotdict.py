"""DotDict: a dict whose keys are also attributes (Prefect 1.x's
``prefect.utilities.collections.DotDict``)."""

from __future__ import annotations

from typing import Any

_DICT_NAMES = frozenset(dir(dict))


class DotDict(dict[str, Any]):
    """A dict that also reads and writes its keys as attributes::

        config = DotDict(host="db", port=5432)
        config.port            # 5432
        config.user = "app"    # config["user"] == "app"

    A missing key is an AttributeError when read as an attribute (so ``getattr(d, k,
    default)`` and :class:`~asyncflow.tasks.GetAttr` defaults work). Keys named like dict
    methods (``items``, ``keys``, ...) are reached only by indexing. Being a dict, it
    serializes wherever a dict does (JSON results, parameters).
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"DotDict has no key {name!r}; its keys are {sorted(map(str, self))}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _DICT_NAMES:
            raise AttributeError(
                f"{name!r} is a dict method, so it cannot be set as an attribute of a DotDict; "
                f"set the key by indexing: d[{name!r}] = ..."
            )
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"DotDict has no key {name!r}") from None

    def copy(self) -> DotDict:
        """A shallow copy, itself a DotDict."""
        return DotDict(self)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict, DotDicts nested in it (also in lists and tuples) converted too."""
        return {key: _plain(value) for key, value in self.items()}

    def __repr__(self) -> str:
        return f"DotDict({dict.__repr__(self)})"


def _plain(value: Any) -> Any:
    if isinstance(value, DotDict):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value
