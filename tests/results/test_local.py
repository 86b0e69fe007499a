from __future__ import annotations

import os
import pickle
import re
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from asyncflow._core._exceptions import (
    ResultError,
    ResultNotFoundError,
    ResultReadError,
    ResultWriteError,
    SerializationError,
    TamperedResultError,
)
from asyncflow.results import LocalResult
from asyncflow.serializers import (
    CompressedSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    SignedSerializer,
)

from ._unprivileged import run_unprivileged

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True, params=["unnamed-file", "named-temp-file"])
def write_strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with both ways of writing atomically (see _local.atomic_write)."""
    import asyncflow._results._local as local

    if request.param == "unnamed-file" and not local._use_unnamed_files:
        pytest.skip("this system cannot write unnamed files (O_TMPFILE)")
    monkeypatch.setattr(local, "_use_unnamed_files", request.param == "unnamed-file")
    return str(request.param)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*.tmp"))


async def test_write_then_read_round_trip(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path)
    written = await result.write({"a": [1, 2, 3]})
    assert (await result.read(written.location)).value == {"a": [1, 2, 3]}  # type: ignore[arg-type]


async def test_write_stores_the_absolute_path_and_a_plain_pickle(tmp_path: Path) -> None:
    written = await LocalResult(dir=tmp_path, location="three.pkl").write(3)
    assert written.location == str(tmp_path / "three.pkl")
    assert written.value == 3
    assert pickle.loads((tmp_path / "three.pkl").read_bytes()) == 3


async def test_write_returns_a_new_result_and_leaves_the_original_alone(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{task_name}.bin")
    written = await result.write(1, task_name="t")
    assert written is not result
    assert result.location == "{task_name}.bin"
    assert result.value is None


async def test_default_location_is_a_timestamped_file_in_dir(tmp_path: Path) -> None:
    written = await LocalResult(dir=tmp_path).write("x")
    assert isinstance(written.location, str)
    name = os.path.basename(written.location)
    assert os.path.dirname(written.location) == str(tmp_path)
    assert re.fullmatch(
        r"asyncflow-result-\d{4}-\d\d-\d\dt\d\d-\d\d-\d\d-\d{6}-00-00-[0-9a-f]{8}", name
    ), name


async def test_default_locations_do_not_collide(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path)
    locations: list[Any] = []

    async def write(i: int) -> None:
        locations.append((await result.write(i)).location)

    async with anyio.create_task_group() as tg:
        for i in range(200):
            tg.start_soon(write, i)
    assert len(set(locations)) == 200
    assert len(os.listdir(tmp_path)) == 200


async def test_none_is_written_like_any_value(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="none.pkl")
    written = await result.write(None)
    assert (tmp_path / "none.pkl").exists()
    assert (await result.read("none.pkl")).value is None
    assert written.location == str(tmp_path / "none.pkl")


async def test_parent_directories_are_created(tmp_path: Path) -> None:
    written = await LocalResult(dir=tmp_path, location="a/b/c/value.pkl").write(5)
    assert written.location == str(tmp_path / "a" / "b" / "c" / "value.pkl")
    assert pickle.loads((tmp_path / "a" / "b" / "c" / "value.pkl").read_bytes()) == 5


async def test_read_joins_relative_locations_to_dir(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(pickle.dumps("model"))
    read = await LocalResult(dir=tmp_path).read("model.pkl")
    assert read.value == "model"
    assert read.location == str(tmp_path / "model.pkl")


async def test_read_leaves_the_original_alone(tmp_path: Path) -> None:
    (tmp_path / "v.pkl").write_bytes(pickle.dumps(1))
    result = LocalResult(dir=tmp_path)
    await result.read("v.pkl")
    assert result.value is None
    assert result.location is None


async def test_exists(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path)
    await LocalResult(dir=tmp_path, location="here.pkl").write(1)
    assert await result.exists("here.pkl")
    assert await result.exists(str(tmp_path / "here.pkl"))
    assert not await result.exists("missing.pkl")


async def test_exists_fills_in_a_template(tmp_path: Path) -> None:
    await LocalResult(dir=tmp_path, location="t/0.bin").write(1)
    result = LocalResult(dir=tmp_path)
    assert await result.exists("{task_name}/{map_index}.bin", task_name="t", map_index=0)
    assert not await result.exists("{task_name}/{map_index}.bin", task_name="t", map_index=1)


async def test_exists_is_false_for_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert not await LocalResult(dir=tmp_path).exists("sub")


def test_dir_defaults_to_the_configured_local_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__RESULTS__LOCAL_DIR", str(tmp_path / "configured"))
    result = LocalResult()
    assert result.dir == str(tmp_path / "configured")
    assert (tmp_path / "configured").is_dir()


def test_dir_expands_the_user_and_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert LocalResult(dir="~/results").dir == str(tmp_path / "results")
    monkeypatch.chdir(tmp_path)
    assert LocalResult(dir="relative").dir == str(tmp_path / "relative")


def test_validate_dir_false_does_not_create_the_dir(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path / "later", validate_dir=False)
    assert not (tmp_path / "later").exists()


def test_a_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ResultError, match=r"is a file .*not a directory"):
        LocalResult(dir=tmp_path / "file")


def test_a_dir_below_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ResultError, match="is a file"):
        LocalResult(dir=tmp_path / "file" / "sub")


def test_a_dir_that_is_not_writable_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir(mode=0o555)

    async def make() -> LocalResult:
        return LocalResult(dir=tmp_path / "ro")

    with pytest.raises(ResultError, match="not writable"):
        run_unprivileged(make)


async def test_a_value_that_cannot_be_serialized_names_type_and_location(tmp_path: Path) -> None:
    with pytest.raises(SerializationError) as info:
        await LocalResult(dir=tmp_path, location="lock.pkl").write(threading.Lock())
    message = str(info.value)
    assert "lock" in message
    assert str(tmp_path / "lock.pkl") in message
    assert not (tmp_path / "lock.pkl").exists()
    assert leftovers(tmp_path) == []


class ExplodingSerializer(Serializer):
    def serialize(self, value: Any) -> bytes:
        raise RuntimeError("boom halfway")

    def deserialize(self, value: bytes) -> Any:
        raise AssertionError("not used")


async def test_a_failing_serializer_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    await LocalResult(dir=tmp_path, location="v.pkl").write("old")
    with pytest.raises(SerializationError, match="boom halfway"):
        await LocalResult(dir=tmp_path, location="v.pkl", serializer=ExplodingSerializer()).write(
            "new"
        )
    assert pickle.loads((tmp_path / "v.pkl").read_bytes()) == "old"
    assert leftovers(tmp_path) == []


async def test_a_pickle_failing_after_bytes_were_written_leaves_the_file_intact(
    tmp_path: Path,
) -> None:
    await LocalResult(dir=tmp_path, location="v.pkl").write("old")
    half_written = [os.urandom(1024 * 1024), threading.Lock()]  # the lock fails late
    with pytest.raises(SerializationError, match="lock"):
        await LocalResult(dir=tmp_path, location="v.pkl").write(half_written)
    assert pickle.loads((tmp_path / "v.pkl").read_bytes()) == "old"
    assert leftovers(tmp_path) == []


async def test_a_failed_write_removes_its_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # the final rename onto a directory fails
    with pytest.raises(ResultWriteError) as info:
        await LocalResult(dir=tmp_path, location="taken").write(1)
    assert str(tmp_path / "taken") in str(info.value)
    assert "LocalResult" in str(info.value)
    assert leftovers(tmp_path) == []
    assert list((tmp_path / "taken").iterdir()) == []


async def test_a_failed_write_below_a_file_names_the_location(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a directory")
    with pytest.raises(ResultWriteError, match="part of the path is a file"):
        await LocalResult(dir=tmp_path, location="plain/value.pkl").write(1)
    assert (tmp_path / "plain").read_text() == "not a directory"


def test_a_write_into_a_read_only_directory_is_a_write_error(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "v.pkl").write_bytes(pickle.dumps("old"))
    (tmp_path / "ro").chmod(0o555)

    async def write() -> None:
        await LocalResult(dir=tmp_path / "ro", validate_dir=False, location="v.pkl").write("new")

    with pytest.raises(ResultWriteError, match="Permission denied"):
        run_unprivileged(write)
    assert pickle.loads((tmp_path / "ro" / "v.pkl").read_bytes()) == "old"
    assert leftovers(tmp_path) == []


async def test_overwriting_replaces_the_whole_file(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl")
    await result.write("x" * 10_000)
    await result.write("short")
    assert (await result.read("v.pkl")).value == "short"


async def test_reading_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFoundError) as info:
        await LocalResult(dir=tmp_path).read("nothing.pkl")
    assert str(tmp_path / "nothing.pkl") in str(info.value)
    assert isinstance(info.value, KeyError)


async def test_reading_a_truncated_pickle_is_a_serialization_error(tmp_path: Path) -> None:
    data = pickle.dumps({"numbers": list(range(100))})
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError) as info:
        await LocalResult(dir=tmp_path).read("cut.pkl")
    assert str(tmp_path / "cut.pkl") in str(info.value)
    assert "corrupt or truncated" in str(info.value)


async def test_reading_garbage_is_a_serialization_error(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"\x00\x01 not a pickle")
    with pytest.raises(SerializationError, match="junk"):
        await LocalResult(dir=tmp_path).read("junk")


async def test_reading_a_directory_is_a_read_error(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(ResultReadError, match="is a directory"):
        await LocalResult(dir=tmp_path).read("sub")


def test_reading_without_permission_names_path_and_fix(tmp_path: Path) -> None:
    (tmp_path / "secret.pkl").write_bytes(pickle.dumps(1))
    (tmp_path / "secret.pkl").chmod(0)

    async def read() -> Any:
        return (await LocalResult(dir=tmp_path, validate_dir=False).read("secret.pkl")).value

    with pytest.raises(ResultReadError) as info:
        run_unprivileged(read)
    assert "permission denied" in str(info.value)
    assert str(tmp_path / "secret.pkl") in str(info.value)
    assert "chmod" in str(info.value)


async def test_a_tampered_signed_file_is_refused(tmp_path: Path) -> None:
    serializer = SignedSerializer(PickleSerializer(), key=b"k" * 32)
    result = LocalResult(dir=tmp_path, serializer=serializer, location="signed.pkl")
    await result.write({"ok": True})
    data = bytearray((tmp_path / "signed.pkl").read_bytes())
    data[-2] ^= 0xFF
    (tmp_path / "signed.pkl").write_bytes(bytes(data))
    with pytest.raises(TamperedResultError) as info:
        await result.read("signed.pkl")
    assert str(tmp_path / "signed.pkl") in str(info.value)


@pytest.mark.parametrize(
    "serializer",
    [
        PickleSerializer(),
        JSONSerializer(),
        CompressedSerializer(PickleSerializer(), format="zlib"),
        SignedSerializer(JSONSerializer(), key="key-" * 8),
    ],
    ids=repr,
)
async def test_round_trip_with_each_serializer(tmp_path: Path, serializer: Serializer) -> None:
    result = LocalResult(dir=tmp_path, serializer=serializer)
    written = await result.write({"a": [1, "two", None]})
    assert (await result.read(written.location)).value == {"a": [1, "two", None]}  # type: ignore[arg-type]


async def test_a_large_value_round_trips(tmp_path: Path) -> None:
    value = os.urandom(8 * 1024 * 1024)
    result = LocalResult(dir=tmp_path)
    written = await result.write(value)
    assert (await result.read(written.location)).value == value  # type: ignore[arg-type]


def test_local_results_pickle_and_copy(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="x.pkl", serializer=JSONSerializer())
    for other in (result.copy(), pickle.loads(pickle.dumps(result))):
        assert other.dir == result.dir
        assert other.location == "x.pkl"
        assert other.serializer == JSONSerializer()
        assert other.validate_dir is True


def test_local_result_persists() -> None:
    assert LocalResult.persists is True


@pytest.mark.parametrize("write_strategy", ["unnamed-file"], indirect=True)
async def test_without_unnamed_file_support_writes_fall_back_to_a_named_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_strategy: str
) -> None:
    import asyncflow._results._local as local

    # O_TMPFILE without write access is refused by the kernel with EINVAL, as it is
    # where the filesystem lacks unnamed files.
    monkeypatch.setattr(local, "_UNNAMED_FLAGS", os.O_RDONLY | os.O_TMPFILE)
    written = await LocalResult(dir=tmp_path, location="v.pkl").write("value")
    assert pickle.loads((tmp_path / "v.pkl").read_bytes()) == "value"
    assert written.location == str(tmp_path / "v.pkl")
    assert local._use_unnamed_files is False
    assert leftovers(tmp_path) == []
