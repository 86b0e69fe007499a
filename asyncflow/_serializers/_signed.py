"""SignedSerializer: refuses bytes that were not written with the same key.

A pickle runs code when it is loaded, so a pickle read back from storage others can write
to (a shared bucket, a network drive) is a way to run their code. SignedSerializer prefixes
the bytes with an HMAC-SHA256 of them and checks it, in constant time, before the wrapped
serializer sees a single byte.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .._core._exceptions import TamperedResultError
from ._base import Serializer

_MAGIC = b"afhmac1:"
_DIGEST_SIZE = hashlib.sha256().digest_size


class SignedSerializer(Serializer):
    """Signs the bytes of ``serializer`` with ``key`` and verifies them before deserializing.

    ``key`` is a secret shared by every process that writes or reads the results (bytes,
    or text encoded as UTF-8); use at least 32 random bytes, e.g. ``secrets.token_bytes(32)``.
    Bytes that are unsigned, modified, or signed with another key raise
    :class:`~asyncflow.exceptions.TamperedResultError` and are never deserialized.
    """

    def __init__(self, serializer: Serializer, *, key: bytes | str) -> None:
        if not isinstance(serializer, Serializer):
            raise TypeError(
                f"SignedSerializer wraps a Serializer, got {serializer!r}; write for example "
                "SignedSerializer(PickleSerializer(), key=...)"
            )
        if isinstance(key, str):
            key = key.encode("utf-8")
        if not isinstance(key, (bytes, bytearray)) or not key:
            raise ValueError(
                "SignedSerializer needs a non-empty key (bytes or str); generate one with "
                "secrets.token_bytes(32) and keep it where every worker can read it"
            )
        self.serializer = serializer
        self._key = bytes(key)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _MAGIC + payload, hashlib.sha256).digest()

    def serialize(self, value: Any) -> bytes:
        payload = self.serializer.serialize(value)
        return b"".join((_MAGIC, self._sign(payload), payload))

    def deserialize(self, value: bytes) -> Any:
        header = len(_MAGIC) + _DIGEST_SIZE
        if len(value) < header or not value.startswith(_MAGIC):
            raise TamperedResultError(
                "the bytes are not signed by SignedSerializer (no signature header); they "
                "were written without signing or replaced, so they are not deserialized"
            )
        view = memoryview(value)
        signature = bytes(view[len(_MAGIC) : header])
        payload = bytes(view[header:])
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TamperedResultError(
                "the signature does not match: the bytes were modified after they were "
                "written, or signed with a different key, so they are not deserialized"
            )
        return self.serializer.deserialize(payload)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedSerializer):
            return NotImplemented
        return self.serializer == other.serializer and hmac.compare_digest(self._key, other._key)

    def __repr__(self) -> str:  # never show the key
        return f"SignedSerializer({self.serializer!r}, key=<hidden>)"
