"""LocalResult keeps templated locations and links inside its dir, for writes and reads.

Each attack plants or aims at a file in ``outside``, next to the result dir, and checks
both the error and that nothing was written there or unpickled from there.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from asyncflow import Flow, task
from asyncflow._core._exceptions import LocationError
from asyncflow.result_handlers import LocalResultHandler
from asyncflow.results import LocalResult

pytestmark = pytest.mark.anyio


class Planted:
    """A pickle that creates ``marker`` (a directory) when it is loaded: proof of code run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    return path


def plant(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(Planted(marker)))


def below_root(path: Path) -> str:
    """``path`` without its leading '/': what an empty first field turns back into it."""
    return str(path).lstrip("/")


# ---- the whole filled-in location is checked, not only each value ---------------------


async def test_an_empty_first_field_cannot_make_an_absolute_path(
    results: Path, outside: Path
) -> None:
    result = LocalResult(dir=results, location="{sub}/{name}.bin")

    with pytest.raises(LocationError) as info:
        await result.write("stolen", sub="", name=below_root(outside / "x"))

    message = str(info.value)
    assert "'{sub}/{name}.bin'" in message
    assert "is an absolute path" in message
    assert "({sub} was empty)" in message
    assert "make sure every value formatted into it is a non-empty relative name" in message
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("template", "values", "problem"),
    [
        ("{a}{b}/x.bin", {"a": ".", "b": "."}, "has a '..' component"),
        ("{a}/{b}", {"a": "x", "b": ""}, "has an empty path component"),
        ("{a}//{b}", {"a": "x", "b": "y"}, "has an empty path component"),
        ("{a}/{b}/c.bin", {"a": "x", "b": ""}, "has an empty path component"),
        ("{a}.bin", {"a": "x\\y"}, "contains a backslash"),
        ("{a}\\{b}.bin", {"a": "x", "b": "y"}, "contains a backslash"),
        ("{a}{b}", {"a": "", "b": ""}, "is empty"),
    ],
)
async def test_a_filled_in_location_is_checked_as_a_whole(
    results: Path, template: str, values: dict[str, str], problem: str
) -> None:
    result = LocalResult(dir=results, location=template)

    with pytest.raises(LocationError, match=problem) as info:
        await result.write(1, **values)

    assert repr(template) in str(info.value)
    assert [p for p in results.rglob("*") if p.is_file()] == []


async def test_exists_checks_a_template_the_same_way(results: Path, outside: Path) -> None:
    plant(outside / "x.bin", outside / "ran")
    result = LocalResult(dir=results)

    with pytest.raises(LocationError, match="is an absolute path"):
        await result.exists("{tenant}/{name}.bin", tenant="", name=below_root(outside / "x"))


async def test_a_callable_cannot_return_an_empty_component(results: Path) -> None:
    result = LocalResult(dir=results, location=lambda **kw: "a//b.bin")
    with pytest.raises(LocationError, match="has an empty path component"):
        await result.write(1)


async def test_ordinary_templates_still_work(results: Path) -> None:
    result = LocalResult(dir=results, location="{flow_name}/{date}/{task_name}-{map_index}.bin")
    written = await result.write(5, flow_name="etl", date="2024-05-06", task_name="t", map_index=0)
    assert written.location == str(results / "etl" / "2024-05-06" / "t-0.bin")
    assert (await result.read(written.location)).value == 5


# ---- symbolic links under dir -----------------------------------------------------------


async def test_a_link_in_the_dir_cannot_take_a_write_outside(results: Path, outside: Path) -> None:
    results.mkdir()
    (results / "link").symlink_to(outside)

    with pytest.raises(LocationError) as info:
        await LocalResult(dir=results, location="link/x.bin").write("stolen")

    message = str(info.value)
    assert "symbolic link" in message and str(outside) in message
    assert "Remove or fix the link, or set dir=" in message
    assert list(outside.iterdir()) == []


async def test_a_link_chosen_by_a_template_value_is_refused(results: Path, outside: Path) -> None:
    results.mkdir()
    (results / "tenant-b").symlink_to(outside)
    result = LocalResult(dir=results, location="{tenant}/{task_name}.bin")

    with pytest.raises(LocationError, match="symbolic link"):
        await result.write("stolen", tenant="tenant-b", task_name="t")

    assert list(outside.iterdir()) == []


async def test_a_read_through_a_link_in_the_dir_unpickles_nothing(
    results: Path, outside: Path
) -> None:
    plant(outside / "x.bin", outside / "ran")
    results.mkdir()
    (results / "link").symlink_to(outside)
    result = LocalResult(dir=results)

    with pytest.raises(LocationError, match="symbolic link"):
        await result.read("link/x.bin")
    with pytest.raises(LocationError, match="symbolic link"):
        await result.exists("link/x.bin")

    assert not (outside / "ran").exists()


async def test_a_result_file_that_is_a_link_outside_is_not_read(
    results: Path, outside: Path
) -> None:
    plant(outside / "x.bin", outside / "ran")
    results.mkdir()
    (results / "x.bin").symlink_to(outside / "x.bin")
    result = LocalResult(dir=results)

    with pytest.raises(LocationError, match="symbolic link"):
        await result.read("x.bin")
    with pytest.raises(LocationError, match="symbolic link"):
        await result.read(str(results / "x.bin"))
    with pytest.raises(LocationError, match="symbolic link"):
        await result.exists("x.bin")

    assert not (outside / "ran").exists()


async def test_the_deprecated_handler_does_not_read_through_a_link(
    results: Path, outside: Path
) -> None:
    plant(outside / "x.bin", outside / "ran")
    results.mkdir()
    (results / "link").symlink_to(outside)

    with pytest.raises(LocationError, match="symbolic link"):
        LocalResultHandler(results).read(str(results / "link" / "x.bin"))

    assert not (outside / "ran").exists()


async def test_writing_over_a_result_file_that_is_a_link_replaces_the_link(
    results: Path, outside: Path
) -> None:
    (outside / "precious").write_text("keep me")
    results.mkdir()
    (results / "x.bin").symlink_to(outside / "precious")

    written = await LocalResult(dir=results, location="x.bin").write(7)

    assert (outside / "precious").read_text() == "keep me"
    assert not (results / "x.bin").is_symlink()
    assert (await LocalResult(dir=results).read(written.location)).value == 7  # type: ignore[arg-type]


async def test_a_link_that_stays_inside_the_dir_is_followed(results: Path) -> None:
    (results / "2024").mkdir(parents=True)
    (results / "latest").symlink_to(results / "2024")
    result = LocalResult(dir=results, location="latest/x.bin")

    written = await result.write([1, 2])

    assert written.location == str(results / "latest" / "x.bin")
    assert pickle.loads((results / "2024" / "x.bin").read_bytes()) == [1, 2]
    assert (await result.read("latest/x.bin")).value == [1, 2]
    assert await result.exists("latest/x.bin")


async def test_a_dir_that_is_itself_a_link_works(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "linked-dir").symlink_to(outside)
    result = LocalResult(dir=tmp_path / "linked-dir", location="{name}/x.bin")

    written = await result.write(3, name="sub")

    assert (await result.read(written.location)).value == 3  # type: ignore[arg-type]
    assert (outside / "sub" / "x.bin").is_file()


# ---- through the engine -----------------------------------------------------------------


async def test_a_task_whose_location_leaves_the_dir_fails_and_writes_nothing(
    results: Path, outside: Path
) -> None:
    @task(result=LocalResult(dir=results, location="{sub}/{name}.bin"))
    def save(sub: str, name: str) -> str:
        return "stolen"

    with Flow("escape") as flow:
        saved = save(sub="", name=below_root(outside / "x"))

    state = await flow.run()

    task_state = state.result[saved]
    assert task_state.is_failed()
    message = task_state.message or ""
    assert "could not write its result" in message
    assert "'{sub}/{name}.bin'" in message and "({sub} was empty)" in message
    assert list(outside.iterdir()) == []


async def test_a_target_outside_the_dir_is_not_unpickled(results: Path, outside: Path) -> None:
    plant(outside / "x.bin", outside / "ran")
    calls: list[str] = []

    @task(result=LocalResult(dir=results), target="{tenant}/{name}.bin")
    def load(tenant: str, name: str) -> str:
        calls.append(tenant)
        return "fresh"

    with Flow("target-escape") as flow:
        loaded = load(tenant="", name=below_root(outside / "x"))

    state = await flow.run()

    task_state = state.result[loaded]
    assert task_state.is_failed()
    message = task_state.message or ""
    assert "could not check its target" in message
    assert "'{tenant}/{name}.bin'" in message and "({tenant} was empty)" in message
    assert not (outside / "ran").exists()
    assert calls == []


async def test_a_target_through_a_link_is_not_unpickled(results: Path, outside: Path) -> None:
    plant(outside / "x.bin", outside / "ran")
    results.mkdir()
    (results / "tenant-b").symlink_to(outside)

    @task(result=LocalResult(dir=results), target="{tenant}/x.bin")
    def load(tenant: str) -> str:
        return "fresh"

    with Flow("target-link") as flow:
        loaded = load(tenant="tenant-b")

    state = await flow.run()

    task_state = state.result[loaded]
    assert task_state.is_failed()
    assert "symbolic link" in (task_state.message or "")
    assert not (outside / "ran").exists()
