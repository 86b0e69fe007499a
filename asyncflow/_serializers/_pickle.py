"""PickleSerializer: cloudpickle, the default serializer of every persisting Result."""

from __future__ import annotations

import pickle
from typing import IO, Any

import cloudpickle

from ._base import Serializer


class PickleSerializer(Serializer):
    """Serializes with :mod:`cloudpickle`, so lambdas and local classes work too.

    Unpickling runs code chosen by whoever wrote the bytes: read pickles only from
    storage you trust, or wrap this serializer in a
    :class:`~asyncflow.serializers.SignedSerializer`.
    """

    def serialize(self, value: Any) -> bytes:
        return cloudpickle.dumps(value)  # type: ignore[no-any-return]

    def deserialize(self, value: bytes) -> Any:
        return pickle.loads(value)


def dump_into(value: Any, file: IO[bytes]) -> None:
    """Pickle ``value`` straight into ``file``: the same bytes as ``serialize``, but a large
    bytes-like part is written from its own buffer instead of being copied first."""
    cloudpickle.dump(value, file)


def load_from(file: IO[bytes]) -> Any:
    """Unpickle from ``file``, reading large parts straight into their final objects."""
    return pickle.load(file)
