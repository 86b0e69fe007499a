from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest

from asyncflow._core._exceptions import LocationError
from asyncflow.results import LocalResult, Result

pytestmark = pytest.mark.anyio

MONDAY = datetime.datetime(2024, 5, 6, 9, 30, tzinfo=datetime.timezone.utc)


def test_format_fills_in_a_template() -> None:
    result = Result(location="{flow_name}/{task_name}-{map_index}.bin")
    formatted = result.format(flow_name="etl", task_name="load", map_index=3)
    assert formatted.location == "etl/load-3.bin"
    assert result.location == "{flow_name}/{task_name}-{map_index}.bin"


def test_date_is_a_datetime_so_format_specs_work() -> None:
    formatted = Result(location="{date:%A}/{task_name}.prefect").format(
        date=MONDAY, task_name="downstream_task"
    )
    assert formatted.location == "Monday/downstream_task.prefect"


async def test_the_day_of_week_template_from_the_docs_writes_there(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{date:%A}/{task_name}.prefect")
    written = await result.write([10, 20, 30], date=MONDAY, task_name="downstream_task")
    assert written.location == str(tmp_path / "Monday" / "downstream_task.prefect")
    assert (await result.read("Monday/downstream_task.prefect")).value == [10, 20, 30]


def test_a_callable_location_gets_the_keys() -> None:
    def where(*, task_name: str, map_index: int, **_: Any) -> str:
        return f"{task_name}/{map_index:03d}.bin"

    formatted = Result(location=where).format(task_name="t", map_index=7, extra=1)
    assert formatted.location == "t/007.bin"


def test_a_fixed_location_is_kept() -> None:
    assert Result(location="initial_data.prefect").format(x=1).location == "initial_data.prefect"


def test_no_location_gives_the_default_location() -> None:
    location = Result().format().location
    assert isinstance(location, str)
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/[0-9a-f-]{36}\.asyncflow_result", location), location


def test_a_missing_key_lists_the_available_keys() -> None:
    with pytest.raises(LocationError) as info:
        Result(location="{flow_name}/{tsak_name}.bin").format(flow_name="f", task_name="t")
    message = str(info.value)
    assert "{tsak_name}" in message
    assert "available keys: flow_name, task_name" in message


def test_a_missing_key_in_a_callable_lists_the_available_keys() -> None:
    def where(**kwargs: Any) -> str:
        return str(kwargs["nope"])

    with pytest.raises(LocationError, match=r"'nope'.*available keys: task_name"):
        Result(location=where).format(task_name="t")


def test_a_missing_key_with_no_keys_at_all_says_so() -> None:
    with pytest.raises(LocationError, match=r"available keys: \(none\)"):
        Result(location="{task_name}").format()


def test_a_positional_field_is_explained() -> None:
    with pytest.raises(LocationError, match="name a key instead"):
        Result(location="{}.bin").format(task_name="t")


def test_a_bad_format_spec_is_a_location_error() -> None:
    with pytest.raises(LocationError, match="cannot be filled in"):
        Result(location="{n:d}").format(n="text")


def test_a_callable_that_raises_is_a_location_error() -> None:
    def where(**kwargs: Any) -> str:
        raise RuntimeError("nope")

    with pytest.raises(LocationError, match="RuntimeError: nope"):
        Result(location=where).format()


def test_a_callable_must_return_a_str() -> None:
    with pytest.raises(LocationError, match="must return the location as a str"):
        Result(location=lambda **kw: 5).format()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    ["../outside", "a/../../outside", "..", "/etc/passwd", "\\windows", "a\\..\\..\\b"],
)
def test_an_input_cannot_escape_the_local_dir(tmp_path: Path, value: str) -> None:
    result = LocalResult(dir=tmp_path, location="{name}.pkl")
    with pytest.raises(LocationError) as info:
        result.format(name=value)
    message = str(info.value)
    assert "{name}" in message
    assert "escape the result dir" in message


async def test_an_escaping_input_writes_nothing(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    with pytest.raises(LocationError):
        await LocalResult(dir=inner, location="{name}").write(1, name="../stolen")
    assert not (tmp_path / "stolen").exists()


def test_an_input_with_a_nested_path_is_fine(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{name}.pkl")
    assert result.format(name="a/b/c").location == "a/b/c.pkl"


def test_a_dotted_name_that_is_not_a_parent_reference_is_fine(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{name}")
    assert result.format(name="v1..2.pkl").location == "v1..2.pkl"


def test_a_callable_cannot_escape_the_local_dir(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location=lambda **kw: "../x")
    with pytest.raises(LocationError, match="Return a path relative to dir"):
        result.format()


def test_a_callable_cannot_return_an_absolute_path_for_local_results(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location=lambda **kw: "/tmp/x")
    with pytest.raises(LocationError, match="absolute path"):
        result.format()


async def test_a_relative_location_with_dotdot_is_rejected(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path / "inner", location="../x.pkl")
    with pytest.raises(LocationError, match="outside the result dir"):
        await result.write(1)
    with pytest.raises(LocationError, match="outside the result dir"):
        await result.read("../x.pkl")


async def test_an_absolute_template_is_refused_with_the_dir_to_use(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    result = LocalResult(dir=tmp_path / "dir", location=str(elsewhere) + "/{task_name}.pkl")
    with pytest.raises(LocationError) as info:
        await result.write(1, task_name="t")
    assert "is an absolute path" in str(info.value)
    assert "Give the directory as dir=" in str(info.value)
    assert not elsewhere.exists()


async def test_a_fixed_absolute_location_is_the_authors_choice(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "t.pkl"
    written = await LocalResult(dir=tmp_path / "dir", location=str(elsewhere)).write(1)
    assert written.location == str(elsewhere)
    assert (await LocalResult(dir=tmp_path / "dir").read(str(elsewhere))).value == 1


async def test_an_empty_location_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="empty"):
        await LocalResult(dir=tmp_path, location="{x}").write(1, x="")


def test_format_of_a_plain_result_does_not_check_paths() -> None:
    assert Result(location="{x}").format(x="../y").location == "../y"
