"""Results: a value, where it is stored, and how to write, read and find it.

``LocalResult``, ``JSONResult`` (also ``PrefectResult``), ``ConstantResult`` and
``SecretResult`` are built in; a custom storage backend is a :class:`Result` subclass with
async ``write``, ``read`` and ``exists``. :class:`UnreadValue` stands where a restarted
run holds a kept value it has not read back.
"""

from __future__ import annotations

from ._core._unread import UnreadValue as UnreadValue
from ._results._base import Result as Result, SafeResult as SafeResult
from ._results._constant import ConstantResult as ConstantResult
from ._results._gcs import GCSResult as GCSResult
from ._results._json import JSONResult as JSONResult, PrefectResult as PrefectResult
from ._results._local import LocalResult as LocalResult
from ._results._location import Location as Location
from ._results._no_result import NoResult as NoResult, NoResultType as NoResultType
from ._results._s3 import S3Result as S3Result
from ._results._secret import SecretResult as SecretResult

__all__ = [
    "ConstantResult",
    "GCSResult",
    "JSONResult",
    "LocalResult",
    "Location",
    "NoResult",
    "NoResultType",
    "PrefectResult",
    "Result",
    "S3Result",
    "SafeResult",
    "SecretResult",
    "UnreadValue",
]
