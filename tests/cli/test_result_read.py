"""`asyncflow result read`: stored values printed, for every kind of storage."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncflow.results import JSONResult, LocalResult, Result
from asyncflow.serializers import (
    CompressedSerializer,
    JSONSerializer,
    PickleSerializer,
    SignedSerializer,
)

from .helpers import run_cli

pytestmark = pytest.mark.anyio

def where(result: Result) -> str:
    """The location a write returned (always a string once written)."""
    assert isinstance(result.location, str)
    return result.location


VALUE = {"rows": [1, 2, 3], "when": datetime.date(2024, 5, 1), "ok": True}


async def test_a_pickled_local_result_is_pretty_printed(tmp_path: Path) -> None:
    written = await LocalResult(dir=tmp_path).write(VALUE)

    done = run_cli("result", "read", where(written), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "{'rows': [1, 2, 3], 'when': datetime.date(2024, 5, 1), 'ok': True}"
    )
    assert done.stderr == ""


async def test_a_relative_location_is_joined_to_dir(tmp_path: Path) -> None:
    store = tmp_path / "store"
    await LocalResult(dir=store, location="2024/05/01/run.bin").write([1, 2])

    done = run_cli("result", "read", "2024/05/01/run.bin", "--dir", store, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 2]"


async def test_relative_locations_default_to_the_configured_results_dir(tmp_path: Path) -> None:
    configured = Path(os.environ["ASYNCFLOW__RESULTS__LOCAL_DIR"])  # set by the root conftest
    await LocalResult(dir=configured, location="daily.bin").write("from the config dir")

    done = run_cli("result", "read", "daily.bin", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "'from the config dir'"


async def test_json_compressed_and_signed_serializers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    json_file = await LocalResult(dir=tmp_path, serializer=JSONSerializer()).write({"a": 1})
    gz = await LocalResult(dir=tmp_path, serializer=CompressedSerializer(
        PickleSerializer(), format="gzip")).write(list(range(5)))
    signed = await LocalResult(dir=tmp_path, serializer=SignedSerializer(
        PickleSerializer(), key="k" * 32)).write("trusted")
    monkeypatch.setenv("TEST_SIGNING_KEY", "k" * 32)

    as_json = run_cli("result", "read", where(json_file), "--serializer", "json", cwd=tmp_path)
    as_gzip = run_cli("result", "read", where(gz), "--compression", "gzip", cwd=tmp_path)
    as_signed = run_cli("result", "read", where(signed), "--signing-key-env",
                        "TEST_SIGNING_KEY", cwd=tmp_path)

    assert (as_json.returncode, as_json.stdout.strip()) == (0, "{'a': 1}")
    assert (as_gzip.returncode, as_gzip.stdout.strip()) == (0, "[0, 1, 2, 3, 4]")
    assert (as_signed.returncode, as_signed.stdout.strip()) == (0, "'trusted'")


async def test_a_json_result_location_is_the_value_itself(tmp_path: Path) -> None:
    written = await JSONResult().write({"n": 3})

    done = run_cli("result", "read", where(written), "--result", "json",
                   "--serializer", "json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'n': 3}"


def test_a_missing_location_exits_1_with_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.bin"

    done = run_cli("result", "read", missing, cwd=tmp_path)

    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("asyncflow: error: ")
    assert str(missing) in done.stderr
    assert "Traceback" not in done.stderr


async def test_the_wrong_serializer_exits_1_with_one_line(tmp_path: Path) -> None:
    written = await LocalResult(dir=tmp_path).write(VALUE)

    done = run_cli("result", "read", where(written), "--serializer", "json", cwd=tmp_path)

    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert "could not deserialize" in done.stderr
    assert where(written) in done.stderr


async def test_a_signature_that_does_not_match_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = await LocalResult(dir=tmp_path, serializer=SignedSerializer(
        PickleSerializer(), key="right-key-right-key")).write("x")
    monkeypatch.setenv("WRONG_KEY", "wrong-key-wrong-key")

    done = run_cli("result", "read", where(written), "--signing-key-env", "WRONG_KEY",
                   cwd=tmp_path)

    assert done.returncode == 1
    assert "refused" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unset_signing_key_variable_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("result", "read", "x", "--signing-key-env", "NOT_SET_ANYWHERE", cwd=tmp_path)

    assert done.returncode == 2
    assert "'NOT_SET_ANYWHERE', which is not set" in done.stderr


# ---- cloud storage, against local servers --------------------------------------------------


@pytest.fixture
def cloud_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials only: nothing from the developer's own cloud configuration."""
    from tests.servers.moto_s3 import dummy_credentials_env

    for name in list(os.environ):
        if name.startswith(("AWS_", "GOOGLE_", "CLOUDSDK_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    for name, value in dummy_credentials_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))


@pytest.fixture
def moto(cloud_env: None) -> Iterator[Any]:
    from tests.servers.moto_s3 import MotoS3Server

    with MotoS3Server() as server:
        server.create_bucket("results")
        yield server


@pytest.fixture
def gcs(cloud_env: None) -> Iterator[Any]:
    from tests.servers.gcs_emulator import GCSEmulator

    with GCSEmulator() as server:
        server.create_bucket("results")
        yield server


async def test_an_s3_object_is_read_from_its_bucket(moto: Any, tmp_path: Path) -> None:
    from asyncflow.results import S3Result

    async with S3Result("results", client_options=moto.client_options()) as result:
        written = await result.write(VALUE, location="runs/1.bin")

    done = run_cli("result", "read", where(written), "--result", "s3", "--bucket", "results",
                   "--endpoint-url", moto.url, cwd=tmp_path)
    missing = run_cli("result", "read", "runs/2.bin", "--result", "s3", "--bucket", "results",
                      "--endpoint-url", moto.url, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "'rows': [1, 2, 3]" in done.stdout
    assert missing.returncode == 1
    assert "runs/2.bin" in missing.stderr
    assert len(missing.stderr.splitlines()) == 1


async def test_a_gcs_object_is_read_from_its_bucket(gcs: Any, tmp_path: Path) -> None:
    from asyncflow.results import GCSResult

    async with GCSResult("results", api_root=gcs.url, serializer=JSONSerializer()) as result:
        written = await result.write({"k": "v"}, location="runs/1.json")

    done = run_cli("result", "read", where(written), "--result", "gcs", "--bucket", "results",
                   "--endpoint-url", gcs.url, "--serializer", "json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'k': 'v'}"




def test_a_signing_key_too_short_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHORT_KEY", "hunter2")

    done = run_cli("result", "read", "x.bin", "--signing-key-env", "SHORT_KEY", cwd=tmp_path)

    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("asyncflow: error: --signing-key-env SHORT_KEY: ")
    assert "at least 16" in done.stderr and "secrets.token_hex(32)" in done.stderr
    assert "hunter2" not in done.stderr
