"""SignedSerializer: refuses bytes that were not written with the same key.

A pickle runs code when it is loaded, so a pickle read back from storage others can write
to (a shared bucket, a network drive) is a way to run their code. SignedSerializer prefixes
the bytes with an HMAC-SHA256 of them and checks it, in constant time, before the wrapped
serializer sees a single byte.
"""

from __future__ import annotations

import hashlib
import hmac
import warnings
from collections.abc import Sequence
from typing import Any

from .._core._exceptions import ConfigError, TamperedResultError
from ._base import Serializer

_MAGIC = b"afhmac1:"
_DIGEST_SIZE = hashlib.sha256().digest_size

#: The shortest key accepted, in bytes: 128 bits, the least an HMAC key should have.
MIN_KEY_BYTES = 16
_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


class SignedSerializer(Serializer):
    """Signs the bytes of ``serializer`` with a secret key and verifies them before deserializing.

    ``key`` is a secret shared by every process that writes or reads the results (bytes,
    or text encoded as UTF-8) of at least 16 bytes; make one with
    ``python -c "import secrets; print(secrets.token_hex(32))"``. To change a key (one
    that leaked, or on a schedule) without losing what is stored, give ``keys=[new, old]``
    instead: values are signed with the first key and accepted when any key's signature
    matches, so results written with the old key stay readable until it is dropped (an
    old key shorter than 16 bytes is accepted there, with a warning, for the same reason).
    Bytes that are unsigned, modified, or signed with no listed key raise
    :class:`~asyncflow.exceptions.TamperedResultError` and are never deserialized. Keys
    never appear in the repr or in error messages.
    """

    def __init__(
        self,
        serializer: Serializer,
        *,
        key: bytes | str | None = None,
        keys: Sequence[bytes | str] | None = None,
    ) -> None:
        if not isinstance(serializer, Serializer):
            raise TypeError(
                f"SignedSerializer wraps a Serializer, got {serializer!r}; write for example "
                "SignedSerializer(PickleSerializer(), key=...)"
            )
        if key is not None and keys is not None:
            raise ConfigError(
                "SignedSerializer takes key= (one key) or keys= (several, the signing key "
                "first), not both; to rotate, put the new key first: keys=[new, old]"
            )
        if keys is None:
            if key is None:
                raise ConfigError(
                    "SignedSerializer needs key= (or keys=[new, old] while changing keys); "
                    f"make a key with: {_MAKE_A_KEY} and keep it where every worker can read it"
                )
            checked = [_checked_key(key, "key")]
        else:
            if isinstance(keys, (str, bytes, bytearray)) or not isinstance(keys, Sequence):
                raise TypeError(
                    "SignedSerializer: keys= is a list of keys, the signing key first "
                    "(keys=[new, old]); for one key write key=..."
                )
            if not keys:
                raise ConfigError(
                    "SignedSerializer: keys= is empty; give at least the signing key "
                    f"(make one with: {_MAKE_A_KEY})"
                )
            checked = [_checked_key(keys[0], "keys[0]")]
            checked += [_checked_key(keys[i], f"keys[{i}]", old=True) for i in range(1, len(keys))]
        self.serializer = serializer
        self._keys = tuple(checked)

    @staticmethod
    def _sign(key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, _MAGIC + payload, hashlib.sha256).digest()

    def serialize(self, value: Any) -> bytes:
        payload = self.serializer.serialize(value)
        return b"".join((_MAGIC, self._sign(self._keys[0], payload), payload))

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
        # Every key is tried, so the time taken does not tell which one matched.
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(signature, self._sign(key, payload))
        if not matched:
            raise TamperedResultError(
                "the signature does not match: the bytes were modified after they were "
                "written, or signed with a key that is not among this serializer's keys "
                "(after changing keys, keep the old one in keys=[new, old] until nothing "
                "signed with it is read), so they are not deserialized"
            )
        return self.serializer.deserialize(payload)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedSerializer):
            return NotImplemented
        return (
            self.serializer == other.serializer
            and len(self._keys) == len(other._keys)
            and all(hmac.compare_digest(a, b) for a, b in zip(self._keys, other._keys, strict=True))
        )

    def __repr__(self) -> str:  # never show a key
        if len(self._keys) == 1:
            return f"SignedSerializer({self.serializer!r}, key=<hidden>)"
        return f"SignedSerializer({self.serializer!r}, keys=<{len(self._keys)} hidden>)"


def _checked_key(key: object, name: str, *, old: bool = False) -> bytes:
    """``key`` as bytes, refused (without showing it) when it is not a long enough secret.

    An ``old`` key (one after the signing key) only verifies what it signed before, so a
    short one is accepted with a warning: refusing it would make those results unreadable.
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(
            f"SignedSerializer: {name} must be bytes or str, got {type(key).__name__}; "
            f"make a key with: {_MAKE_A_KEY}"
        )
    if len(key) < MIN_KEY_BYTES and old:
        warnings.warn(
            f"SignedSerializer: {name} is {len(key)} bytes long, shorter than the "
            f"{MIN_KEY_BYTES} bytes a signing key needs; it is accepted only to read the "
            "results it signed, and anyone who guesses it can forge results until it is "
            "removed. Write those results again (they are signed with keys[0]), then drop it",
            UserWarning,
            stacklevel=4,
        )
    elif len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"SignedSerializer: {name} is {len(key)} bytes long; a signing key needs at "
            f"least {MIN_KEY_BYTES} random bytes (32 are recommended), or anyone can guess "
            f"it and sign their own pickles. Make one with: {_MAKE_A_KEY}"
        )
    return bytes(key)
