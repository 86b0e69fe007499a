"""Serializers: turn values into bytes for a Result to store, and back.

``PickleSerializer`` (cloudpickle) is the default. ``SignedSerializer`` refuses bytes that
were modified, so pickles read from shared storage cannot run someone else's code.
"""

from __future__ import annotations

from ._serializers._base import Serializer as Serializer
from ._serializers._compressed import (
    COMPRESSION_FORMATS as COMPRESSION_FORMATS,
    CompressedSerializer as CompressedSerializer,
)
from ._serializers._json import (
    DateTimeSerializer as DateTimeSerializer,
    JSONSerializer as JSONSerializer,
)
from ._serializers._pickle import PickleSerializer as PickleSerializer
from ._serializers._signed import SignedSerializer as SignedSerializer

__all__ = [
    "COMPRESSION_FORMATS",
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "SignedSerializer",
]
