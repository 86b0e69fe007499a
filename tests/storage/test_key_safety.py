"""S3 and GCS keys filled in from templates: no empty, '..' or leading '/' parts, fixed bucket.

Run against moto and the GCS emulator; every attack checks the error and that the bucket
holds nothing new, and that a planted object is never unpickled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from asyncflow import Flow, task
from asyncflow._core._exceptions import LocationError
from asyncflow._results._base import Result
from asyncflow._results._gcs import GCSResult
from asyncflow._results._s3 import S3Result
from tests.servers.gcs_emulator import GCSEmulator
from tests.servers.moto_s3 import MotoS3Server
from tests.storage.conftest import BUCKET

pytestmark = pytest.mark.anyio


@dataclass
class Store:
    """One backend under test: how to make its Result and list what it holds."""

    name: str
    make: Callable[..., Result]
    keys: Callable[[], list[str]]


@pytest.fixture(params=["s3", "gcs"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "s3":
        moto: MotoS3Server = request.getfixturevalue("moto")
        return Store("s3", request.getfixturevalue("make_s3"), lambda: sorted(moto.keys(BUCKET)))
    gcs: GCSEmulator = request.getfixturevalue("gcs")
    return Store("gcs", request.getfixturevalue("make_gcs"), lambda: gcs.keys(BUCKET))


class Planted:
    """A pickle that creates ``marker`` (a directory) when it is loaded: proof of code run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize(
    ("template", "values", "problem"),
    [
        ("{tenant}/{name}.bin", {"tenant": "", "name": "x"}, "is an absolute path"),
        ("{a}/{b}/c.bin", {"a": "x", "b": ""}, "has an empty path component"),
        ("{a}/{b}", {"a": "x", "b": ""}, "has an empty path component"),
        ("{a}{b}/c.bin", {"a": ".", "b": "."}, "has a '..' component"),
        ("{a}/c.bin", {"a": "x/.."}, "has a '..' component"),
        ("{where}.bin", {"where": "s3://other-bucket/x"}, "has an empty path component"),
        ("{a}.bin", {"a": "x\\y"}, "contains a backslash"),
    ],
)
async def test_a_key_filled_in_from_a_template_is_checked(
    store: Store, template: str, values: dict[str, str], problem: str
) -> None:
    with pytest.raises(LocationError, match=problem) as info:
        await store.make(location=template).write("stolen", **values)

    message = str(info.value)
    assert repr(template) in message
    assert f"the bucket {BUCKET!r}" in message
    assert store.keys() == []


async def test_an_empty_field_is_named(store: Store) -> None:
    with pytest.raises(LocationError, match=r"\(\{tenant\} was empty\)"):
        await store.make(location="{tenant}/{name}.bin").write(1, tenant="", name="x")


async def test_exists_with_a_template_is_checked(store: Store) -> None:
    await store.make(location="/x.bin").write(1)  # a fixed key is the author's own
    with pytest.raises(LocationError, match="is an absolute path"):
        await store.make().exists("{tenant}/x.bin", tenant="")


async def test_a_callable_key_is_checked(store: Store) -> None:
    with pytest.raises(LocationError, match="has an empty path component"):
        await store.make(location=lambda **kw: "a//b.bin").write(1)
    assert store.keys() == []


async def test_ordinary_templated_keys_still_work(store: Store) -> None:
    result = store.make(location="{flow_name}/{date}/{task_name}-{map_index}.bin")
    await result.write(5, flow_name="etl", date="2024-05-06", task_name="t", map_index=0)
    assert store.keys() == ["etl/2024-05-06/t-0.bin"]


@pytest.mark.parametrize("bucket", ["{tenant}", "results-{tenant}", "results/{tenant}"])
def test_the_bucket_is_never_a_template(
    make_s3: Callable[..., S3Result], make_gcs: Callable[..., GCSResult], bucket: str
) -> None:
    for make in (make_s3, make_gcs):
        with pytest.raises(LocationError, match="never filled in from a template") as info:
            make(bucket)
        assert "put any per-run part in location=" in str(info.value)


async def test_a_task_whose_key_has_an_empty_part_fails_and_writes_nothing(store: Store) -> None:
    @task(result=store.make(location="{tenant}/{name}.bin"))
    def save(tenant: str, name: str) -> str:
        return "stolen"

    with Flow("escape") as flow:
        saved = save(tenant="", name="x")

    state = await flow.run()

    task_state = state.result[saved]
    assert task_state.is_failed()
    message = task_state.message or ""
    assert "could not write its result" in message
    assert "'{tenant}/{name}.bin'" in message and "({tenant} was empty)" in message
    assert store.keys() == []


async def test_a_target_with_an_empty_part_is_not_unpickled(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    await store.make(location="/x.bin").write(Planted(marker))  # planted by someone else
    calls: list[str] = []

    @task(result=store.make(), target="{tenant}/x.bin")
    def load(tenant: str) -> str:
        calls.append(tenant)
        return "fresh"

    with Flow("target-escape") as flow:
        loaded = load(tenant="")

    state = await flow.run()

    task_state = state.result[loaded]
    assert task_state.is_failed()
    assert "could not check its target" in (task_state.message or "")
    assert "({tenant} was empty)" in (task_state.message or "")
    assert not marker.exists()
    assert calls == []
