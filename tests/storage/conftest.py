"""Real storage servers for the S3Result and GCSResult tests.

One moto server and one GCS emulator per test session, on 127.0.0.1 and free ports, each
emptied before every test (moto through its reset endpoint, the emulator by wiping its
memory) with a fresh ``results`` bucket. AWS settings point at dummy keys so that nothing
from the developer's machine is read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncflow._results._base import Result
from asyncflow._results._gcs import GCSResult
from asyncflow._results._s3 import S3Result
from tests.servers.gcs_emulator import GCSEmulator
from tests.servers.moto_s3 import MotoS3Server, dummy_credentials_env

BUCKET = "results"
#: Fast backoff: retry tests must not wait for production delays.
FAST_BACKOFF = 0.01


def stored_at(result: Result) -> str:
    """Where a written Result's value is: its location, always a str once written."""
    location = result.location
    assert isinstance(location, str), location
    return location


@pytest.fixture(autouse=True)
def _storage_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy AWS keys, no AWS/GCP files or emulator settings from the developer's machine."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "ASYNCFLOW__CONTEXT__SECRETS__", "GOOGLE_", "CLOUDSDK_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    for name, value in dummy_credentials_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoS3Server]:
    with MotoS3Server() as server:
        yield server


@pytest.fixture
def moto(moto_server: MotoS3Server) -> Iterator[MotoS3Server]:
    """The session's moto server, emptied, with the bucket ``results``."""
    moto_server.reset()
    moto_server.create_bucket(BUCKET)
    yield moto_server
    moto_server.enforce_auth(False)


@pytest.fixture
def make_s3(moto: MotoS3Server) -> Callable[..., S3Result]:
    """``make_s3(**options)``: an S3Result on the test server, fast retries."""

    def make(bucket: str = BUCKET, **options: Any) -> S3Result:
        options.setdefault("client_options", moto.client_options())
        options.setdefault("retry_backoff", FAST_BACKOFF)
        return S3Result(bucket, **options)

    return make


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GCSEmulator]:
    with GCSEmulator() as server:
        yield server


@pytest.fixture
def gcs(gcs_server: GCSEmulator) -> GCSEmulator:
    """The session's GCS emulator, emptied, with the bucket ``results``."""
    gcs_server.wipe()
    gcs_server.create_bucket(BUCKET)
    return gcs_server


@pytest.fixture
def make_gcs(gcs: GCSEmulator) -> Callable[..., GCSResult]:
    """``make_gcs(**options)``: a GCSResult on the test emulator, fast retries."""

    def make(bucket: str = BUCKET, **options: Any) -> GCSResult:
        options.setdefault("api_root", gcs.url)
        options.setdefault("retry_backoff", FAST_BACKOFF)
        return GCSResult(bucket, **options)

    return make


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of every logger, DEBUG included."""
    caplog.set_level(logging.DEBUG)
    return caplog
