from __future__ import annotations

import datetime
import gzip
import pickle
import zlib
from typing import Any

import pytest

from asyncflow._core._exceptions import SerializationError, TamperedResultError
from asyncflow.serializers import (
    COMPRESSION_FORMATS,
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    SignedSerializer,
)

KEY = b"k" * 32


def test_pickle_round_trip_includes_lambdas() -> None:
    serializer = PickleSerializer()
    func = serializer.deserialize(serializer.serialize(lambda x: x + 1))
    assert func(1) == 2


def test_pickle_of_three_is_the_plain_pickle_the_docs_show() -> None:
    assert pickle.loads(PickleSerializer().serialize(3)) == 3


def test_json_round_trip() -> None:
    value = {"a": [1, 2.5, None, True], "b": "é"}
    serializer = JSONSerializer()
    assert serializer.deserialize(serializer.serialize(value)) == value


def test_json_passes_dumps_kwargs() -> None:
    serializer = JSONSerializer(dumps_kwargs={"sort_keys": True})
    assert serializer.serialize({"b": 1, "a": 2}) == b'{"a": 2, "b": 1}'


def test_json_refuses_a_non_json_value() -> None:
    with pytest.raises(TypeError):
        JSONSerializer().serialize({1, 2})


def test_datetime_round_trip_is_iso_8601() -> None:
    value = datetime.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=datetime.timezone.utc)
    data = DateTimeSerializer().serialize(value)
    assert data == b"2024-05-01T12:30:15.123456+00:00"
    assert DateTimeSerializer().deserialize(data) == value


def test_datetime_reads_a_z_suffix() -> None:
    value = DateTimeSerializer().deserialize(b"2024-05-01T12:00:00Z")
    assert value == datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.timezone.utc)


def test_datetime_refuses_other_types_naming_the_fix() -> None:
    with pytest.raises(TypeError, match="JSONSerializer or PickleSerializer"):
        DateTimeSerializer().serialize("2024-05-01")


@pytest.mark.parametrize("fmt", COMPRESSION_FORMATS)
def test_compressed_round_trip(fmt: str) -> None:
    serializer = CompressedSerializer(PickleSerializer(), format=fmt)
    value = {"data": list(range(1000))}
    data = serializer.serialize(value)
    assert len(data) < len(PickleSerializer().serialize(value))
    assert serializer.deserialize(data) == value


def test_compressed_gzip_is_gzip_of_the_inner_bytes() -> None:
    data = CompressedSerializer(JSONSerializer(), format="gzip").serialize([1, 2])
    assert gzip.decompress(data) == b"[1, 2]"


def test_compressed_with_own_functions_and_kwargs() -> None:
    serializer = CompressedSerializer(
        JSONSerializer(),
        compress=zlib.compress,
        decompress=zlib.decompress,
        compress_kwargs={"level": 1},
    )
    assert serializer.deserialize(serializer.serialize("x" * 100)) == "x" * 100


def test_compressed_with_format_and_functions_is_an_error() -> None:
    with pytest.raises(ValueError, match="not both"):
        CompressedSerializer(
            PickleSerializer(), format="gzip", compress=zlib.compress, decompress=zlib.decompress
        )


def test_compressed_with_neither_format_nor_functions_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs format="):
        CompressedSerializer(PickleSerializer())


def test_compressed_with_only_one_function_is_an_error() -> None:
    with pytest.raises(ValueError, match="both compress= and decompress="):
        CompressedSerializer(PickleSerializer(), compress=zlib.compress)


def test_compressed_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known formats: bz2, gzip, lzma, zlib"):
        CompressedSerializer(PickleSerializer(), format="zip")


def test_compressed_needs_a_serializer() -> None:
    with pytest.raises(TypeError, match="wraps a Serializer"):
        CompressedSerializer("gzip", format="gzip")  # type: ignore[arg-type]


def test_signed_round_trip() -> None:
    serializer = SignedSerializer(PickleSerializer(), key=KEY)
    assert serializer.deserialize(serializer.serialize({"a": 1})) == {"a": 1}


def test_signed_accepts_a_text_key() -> None:
    writer = SignedSerializer(JSONSerializer(), key="a secret text of 32 bytes or so")
    reader = SignedSerializer(JSONSerializer(), key=b"a secret text of 32 bytes or so")
    assert reader.deserialize(writer.serialize([1])) == [1]


_unpickled: list[str] = []


def _record(marker: str) -> None:
    _unpickled.append(marker)


class _Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (_record, ("payload ran",))


def test_signed_refuses_a_tampered_pickle_without_unpickling_it() -> None:
    serializer = SignedSerializer(PickleSerializer(), key=KEY)
    data = serializer.serialize("harmless")
    header = data[: len(data) - len(PickleSerializer().serialize("harmless"))]
    tampered = header + pickle.dumps(_Payload())
    _unpickled.clear()
    with pytest.raises(TamperedResultError, match="does not match"):
        serializer.deserialize(tampered)
    assert _unpickled == []


def test_signed_refuses_a_flipped_bit() -> None:
    serializer = SignedSerializer(JSONSerializer(), key=KEY)
    data = bytearray(serializer.serialize({"amount": 10}))
    data[-3] ^= 1
    with pytest.raises(TamperedResultError):
        serializer.deserialize(bytes(data))


def test_signed_refuses_unsigned_bytes() -> None:
    _unpickled.clear()
    with pytest.raises(TamperedResultError, match="not signed"):
        SignedSerializer(PickleSerializer(), key=KEY).deserialize(pickle.dumps(_Payload()))
    assert _unpickled == []


def test_signed_refuses_another_key() -> None:
    data = SignedSerializer(PickleSerializer(), key=KEY).serialize(1)
    with pytest.raises(TamperedResultError):
        SignedSerializer(PickleSerializer(), key=b"another key, 32 bytes long......").deserialize(data)


def test_tampered_error_is_a_serialization_error() -> None:
    assert issubclass(TamperedResultError, SerializationError)


def test_signed_needs_a_key() -> None:
    with pytest.raises(ValueError, match=r"secrets\.token_hex"):
        SignedSerializer(PickleSerializer(), key=b"")


def test_signed_repr_hides_the_key() -> None:
    text = repr(SignedSerializer(PickleSerializer(), key="hunter2-hunter2-hunter2"))
    assert "hunter2" not in text
    assert text == "SignedSerializer(PickleSerializer(), key=<hidden>)"


def test_signed_over_compressed_round_trip() -> None:
    serializer = SignedSerializer(CompressedSerializer(PickleSerializer(), format="lzma"), key=KEY)
    assert serializer.deserialize(serializer.serialize(list(range(50)))) == list(range(50))


def test_serializers_compare_by_type_and_settings() -> None:
    assert PickleSerializer() == PickleSerializer()
    assert JSONSerializer() != PickleSerializer()
    assert CompressedSerializer(PickleSerializer(), format="gzip") == CompressedSerializer(
        PickleSerializer(), format="gzip"
    )
    assert CompressedSerializer(PickleSerializer(), format="gzip") != CompressedSerializer(
        PickleSerializer(), format="bz2"
    )
    assert SignedSerializer(PickleSerializer(), key=KEY) != SignedSerializer(
        PickleSerializer(), key=b"x" * 32
    )


class Rot13Bytes(Serializer):
    def serialize(self, value: Any) -> bytes:
        return bytes((b + 13) % 256 for b in str(value).encode())

    def deserialize(self, value: bytes) -> Any:
        return bytes((b - 13) % 256 for b in value).decode()


def test_a_custom_serializer_is_a_plain_subclass() -> None:
    serializer = Rot13Bytes()
    assert serializer.deserialize(serializer.serialize("abc")) == "abc"
    assert repr(serializer) == "Rot13Bytes()"


def test_the_serializer_interface_is_abstract() -> None:
    with pytest.raises(TypeError):
        Serializer()  # type: ignore[abstract]
