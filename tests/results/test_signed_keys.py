"""SignedSerializer keys: long enough to be secret, rotated without losing stored results."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import pytest

from asyncflow._core._exceptions import AsyncflowError, TamperedResultError
from asyncflow.results import LocalResult
from asyncflow.serializers import JSONSerializer, PickleSerializer, SignedSerializer

pytestmark = pytest.mark.anyio

OLD = "old-key-" + "o" * 24
NEW = "new-key-" + "n" * 24
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


@pytest.mark.parametrize("key", ["ab", b"ab", "k" * 15, b"\x00" * 15])
def test_a_short_key_is_refused_with_how_to_make_one(key: str | bytes) -> None:
    with pytest.raises(ValueError) as info:
        SignedSerializer(PickleSerializer(), key=key)
    message = str(info.value)
    assert isinstance(info.value, AsyncflowError)
    assert "at least 16" in message
    assert MAKE_A_KEY in message
    assert repr(key) not in message and str(key) not in message


def test_sixteen_bytes_is_enough() -> None:
    serializer = SignedSerializer(PickleSerializer(), key=b"k" * 16)
    assert serializer.deserialize(serializer.serialize(1)) == 1


def test_a_generated_key_works() -> None:
    serializer = SignedSerializer(PickleSerializer(), key=secrets.token_hex(32))
    assert serializer.deserialize(serializer.serialize([1, 2])) == [1, 2]


def test_key_and_keys_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        SignedSerializer(PickleSerializer(), key=NEW, keys=[NEW, OLD])


def test_no_key_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="needs key="):
        SignedSerializer(PickleSerializer())


def test_empty_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="keys= is empty"):
        SignedSerializer(PickleSerializer(), keys=[])


def test_keys_must_be_a_list_not_one_key() -> None:
    with pytest.raises(TypeError, match="keys= is a list of keys"):
        SignedSerializer(PickleSerializer(), keys=NEW)


def test_the_signing_key_in_keys_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match=r"keys\[0\] is 5 bytes long"):
        SignedSerializer(PickleSerializer(), keys=["short", OLD])


def test_rotation_reads_what_the_old_key_signed_and_signs_with_the_new() -> None:
    before = SignedSerializer(JSONSerializer(), key=OLD)
    stored = before.serialize({"v": 1})

    rotated = SignedSerializer(JSONSerializer(), keys=[NEW, OLD])

    assert rotated.deserialize(stored) == {"v": 1}
    fresh = rotated.serialize({"v": 2})
    assert SignedSerializer(JSONSerializer(), key=NEW).deserialize(fresh) == {"v": 2}
    with pytest.raises(TamperedResultError):
        before.deserialize(fresh)


def test_a_dropped_key_no_longer_verifies() -> None:
    stored = SignedSerializer(JSONSerializer(), key=OLD).serialize(1)
    with pytest.raises(TamperedResultError, match="keys=\\[new, old\\]"):
        SignedSerializer(JSONSerializer(), keys=[NEW]).deserialize(stored)


def test_an_old_short_key_still_reads_what_it_signed_with_a_warning() -> None:
    # Signed before short keys were refused: the bytes an "ab" key produced then.
    payload = JSONSerializer().serialize([1])
    magic = b"afhmac1:"
    stored = magic + hmac.new(b"ab", magic + payload, hashlib.sha256).digest() + payload

    with pytest.warns(UserWarning, match=r"keys\[1\] is 2 bytes long.*then drop it") as record:
        rotated = SignedSerializer(JSONSerializer(), keys=[NEW, "ab"])

    assert rotated.deserialize(stored) == [1]
    assert all("'ab'" not in str(w.message) for w in record)


def test_the_repr_hides_every_key() -> None:
    text = repr(SignedSerializer(PickleSerializer(), keys=[NEW, OLD]))
    assert NEW not in text and OLD not in text
    assert text == "SignedSerializer(PickleSerializer(), keys=<2 hidden>)"


def test_a_refused_signature_does_not_show_a_key() -> None:
    stored = SignedSerializer(PickleSerializer(), key=OLD).serialize(1)
    with pytest.raises(TamperedResultError) as info:
        SignedSerializer(PickleSerializer(), keys=[NEW]).deserialize(stored)
    assert NEW not in str(info.value) and OLD not in str(info.value)


def test_equality_compares_the_keys_in_order() -> None:
    assert SignedSerializer(PickleSerializer(), keys=[NEW, OLD]) == SignedSerializer(
        PickleSerializer(), keys=[NEW, OLD]
    )
    assert SignedSerializer(PickleSerializer(), keys=[NEW, OLD]) != SignedSerializer(
        PickleSerializer(), keys=[OLD, NEW]
    )
    assert SignedSerializer(PickleSerializer(), key=NEW) == SignedSerializer(
        PickleSerializer(), keys=[NEW]
    )


async def test_stored_results_survive_a_key_rotation(tmp_path: Path) -> None:
    old = LocalResult(
        dir=tmp_path, location="before.pkl", serializer=SignedSerializer(PickleSerializer(), key=OLD)
    )
    written = await old.write({"rows": 3})

    rotated = LocalResult(
        dir=tmp_path, location="after.pkl",
        serializer=SignedSerializer(PickleSerializer(), keys=[NEW, OLD]),
    )
    assert (await rotated.read("before.pkl")).value == {"rows": 3}
    await rotated.write({"rows": 4})

    new_only = LocalResult(dir=tmp_path, serializer=SignedSerializer(PickleSerializer(), key=NEW))
    assert (await new_only.read("after.pkl")).value == {"rows": 4}
    with pytest.raises(TamperedResultError):
        await new_only.read(written.location)  # type: ignore[arg-type]
