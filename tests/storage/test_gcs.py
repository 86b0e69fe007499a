"""GCSResult against gcp-storage-emulator: reads, writes, resumable uploads, errors, credentials."""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import cloudpickle
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from asyncflow._core._exceptions import (
    ConfigError,
    MissingExtraError,
    ResultNotFoundError,
    ResultReadError,
    ResultWriteError,
)
from asyncflow._results._gcs import GCSResult
from tests.servers.gcs_emulator import GCSEmulator
from tests.servers.loopback import serve_on_loopback
from tests.storage.conftest import BUCKET, stored_at
from tests.storage.faults import Fault, FaultProxy

DEFAULT_KEY = re.compile(r"^\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.asyncflow_result$")
KIB = 1024

MakeGCS = Callable[..., GCSResult]


def chunk_puts(proxy: FaultProxy) -> list[str]:
    """The Content-Range of every resumable-upload PUT the proxy saw."""
    return [s.headers.get("Content-Range", "") for s in proxy.seen if s.method == "PUT"]


async def write_concurrently(result: GCSResult, count: int) -> None:
    """``result.write(i, i=i)`` for every i below ``count``, all at once."""

    async def write(i: int) -> None:
        await result.write(i, i=i)

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(write, i)


# ---- reading and writing ------------------------------------------------------------------
@pytest.mark.anyio
async def test_write_stores_a_pickle_at_a_dated_default_key(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    result = make_gcs()
    written = await result.write({"answer": 42})

    name = stored_at(written)
    assert DEFAULT_KEY.match(name)
    assert gcs.keys(BUCKET) == [name]
    assert gcs.metadata(BUCKET, name)["contentType"] == "application/octet-stream"
    loaded = await result.read(name)
    assert loaded.value == {"answer": 42} and loaded.location == name


@pytest.mark.anyio
async def test_the_stored_bytes_are_the_serializer_output(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    await make_gcs(location="v.bin").write([1, "two"])

    assert cloudpickle.loads(gcs.download(BUCKET, "v.bin")) == [1, "two"]


@pytest.mark.anyio
async def test_location_templates_are_filled_from_the_keyword_arguments(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    written = await make_gcs(location="{date:%Y}/{task_name}.pickle").write(
        1, date=datetime.date(2020, 2, 24), task_name="add"
    )

    assert written.location == "2020/add.pickle"
    assert gcs.keys(BUCKET) == ["2020/add.pickle"]


@pytest.mark.anyio
async def test_exists_tells_stored_names_from_missing_ones(make_gcs: MakeGCS) -> None:
    async with make_gcs(location="{name}.bin") as result:
        await result.write(b"data", name="there")

        assert await result.exists("there.bin") is True
        assert await result.exists("missing.bin") is False
        assert await result.exists("{name}.bin", name="there") is True


@pytest.mark.anyio
async def test_reading_a_missing_object_names_the_bucket_and_the_name(make_gcs: MakeGCS) -> None:
    with pytest.raises(ResultNotFoundError) as caught:
        await make_gcs().read("models/model.pickle")

    assert isinstance(caught.value, KeyError)
    assert "gs://results/models/model.pickle" in str(caught.value)


@pytest.mark.anyio
async def test_a_missing_bucket_is_named_on_write_and_read(make_gcs: MakeGCS) -> None:
    async with make_gcs("no-such-bucket", location="k.bin") as result:
        with pytest.raises(ResultWriteError, match="bucket 'no-such-bucket' does not exist"):
            await result.write(1)
        with pytest.raises(ResultReadError, match="bucket 'no-such-bucket' does not exist"):
            await result.read("k.bin")


@pytest.mark.anyio
async def test_upload_options_set_the_content_type_and_metadata(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    result = make_gcs(location="m.bin", upload_options={
        "content_type": "application/x-python-pickle", "metadata": {"owner": "etl"},
    })

    await result.write("x")

    stored = gcs.metadata(BUCKET, "m.bin")
    assert stored["contentType"] == "application/x-python-pickle"
    assert stored["metadata"] == {"owner": "etl"}


@pytest.mark.anyio
async def test_two_hundred_concurrent_writes_all_land(gcs: GCSEmulator, make_gcs: MakeGCS) -> None:
    async with make_gcs(location="many/{i:03d}.bin") as result:
        await write_concurrently(result, 200)

    assert gcs.keys(BUCKET) == [f"many/{i:03d}.bin" for i in range(200)]


@pytest.mark.anyio
async def test_connections_are_capped_by_max_connections(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    async with FaultProxy(gcs.url) as proxy:
        result = make_gcs(location="{i}.bin", api_root=proxy.url, max_connections=3)
        async with result:
            await write_concurrently(result, 40)

    assert len(proxy.seen) == 40
    assert 1 < proxy.max_in_flight <= 3


# ---- resumable uploads --------------------------------------------------------------------
@pytest.mark.anyio
async def test_values_over_the_threshold_go_up_in_resumable_chunks(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    value = bytes(range(256)) * (4 * KIB) + b"tail"  # 1 MiB + 4 bytes, before pickling
    async with FaultProxy(gcs.url) as proxy:
        result = make_gcs(location="big.bin", api_root=proxy.url,
                          resumable_threshold=KIB, chunk_size=256 * KIB)
        await result.write(value)

    ranges = chunk_puts(proxy)
    assert len(ranges) == 5 and ranges[0].startswith("bytes 0-262143/")
    assert (await make_gcs().read("big.bin")).value == value


@pytest.mark.anyio
async def test_a_failed_chunk_resumes_where_the_server_stopped(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    value = b"z" * (700 * KIB)
    second_chunk = re.compile(r"bytes 262144-")
    async with FaultProxy(gcs.url) as proxy:
        proxy.fail(1, Fault.gcs_error(503, "Backend Error"),
                   when=lambda r: bool(second_chunk.match(r.headers.get("Content-Range", ""))))
        result = make_gcs(location="big.bin", api_root=proxy.url,
                          resumable_threshold=KIB, chunk_size=256 * KIB)
        await result.write(value)

    ranges = chunk_puts(proxy)
    assert ranges[1].startswith("bytes 262144-") and ranges[2].startswith("bytes */")
    assert ranges[3].startswith("bytes 262144-")  # sent again from the acknowledged offset
    assert (await make_gcs().read("big.bin")).value == value


@pytest.mark.anyio
async def test_a_refused_resumable_upload_is_cancelled(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    async with FaultProxy(gcs.url) as proxy:
        proxy.fail(1, Fault.gcs_error(400, "Invalid chunk"),
                   when=lambda r: r.method == "PUT")
        result = make_gcs(location="big.bin", api_root=proxy.url,
                          resumable_threshold=KIB, chunk_size=256 * KIB)

        with pytest.raises(ResultWriteError, match="HTTP 400: Invalid chunk"):
            await result.write(b"z" * (300 * KIB))

    assert [s.method for s in proxy.seen] == ["POST", "PUT", "DELETE"]
    assert gcs.keys(BUCKET) == []


# ---- errors and retries -----------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_retried(
    gcs: GCSEmulator, make_gcs: MakeGCS, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncflow.results")
    async with FaultProxy(gcs.url) as proxy:
        proxy.fail(2, Fault.gcs_error(status, "Please slow down"))
        written = await make_gcs(location="k.bin", api_root=proxy.url).write("finally")

    assert [s.answered_by_proxy for s in proxy.seen] == [True, True, False]
    assert written.location == "k.bin" and gcs.keys(BUCKET) == ["k.bin"]
    assert len([r for r in caplog.records if f"HTTP {status}" in r.getMessage()]) == 2


@pytest.mark.anyio
async def test_throttling_gives_up_after_the_bounded_retries(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    async with FaultProxy(gcs.url) as proxy:
        proxy.fail(10, Fault.gcs_error(429, "rateLimitExceeded"))
        result = make_gcs(api_root=proxy.url, retries=2)

        with pytest.raises(ResultWriteError, match=r"after 3 attempts.*HTTP 429"):
            await result.write(1)

    assert len(proxy.seen) == 3


@pytest.mark.anyio
async def test_access_denied_carries_googles_message_and_the_permission(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    denial = "robot@p.iam.gserviceaccount.com does not have storage.objects.create access"
    async with FaultProxy(gcs.url) as proxy:
        proxy.fail(1, Fault.gcs_error(403, denial, "forbidden"))
        with pytest.raises(ResultWriteError) as caught:
            await make_gcs(location="k.bin", api_root=proxy.url).write(1)

    message = str(caught.value)
    assert "access denied to gs://results/k.bin" in message
    assert denial in message and "storage.objects.create" in message
    assert len(proxy.seen) == 1  # not retried


@pytest.mark.anyio
async def test_an_unreachable_emulator_fails_after_bounded_retries() -> None:
    emulator = GCSEmulator().start()
    url = emulator.url
    emulator.stop()

    with pytest.raises(ResultWriteError, match=r"after 3 attempts.*ClientConnectorError"):
        await GCSResult(BUCKET, api_root=url, retries=2, retry_backoff=0.01).write(1)


# ---- endpoints and credentials ----------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("with_scheme", [True, False])
async def test_storage_emulator_host_points_at_the_emulator(
    gcs: GCSEmulator, monkeypatch: pytest.MonkeyPatch, with_scheme: bool
) -> None:
    host = gcs.url if with_scheme else gcs.url.removeprefix("http://")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", host)

    written = await GCSResult(BUCKET, location="env.bin").write(1)

    assert gcs.keys(BUCKET) == [written.location]


def _service_account(token_uri: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "p", "private_key_id": "k1",
            "private_key": pem, "client_email": "robot@p.iam.gserviceaccount.com",
            "token_uri": token_uri}


@pytest.fixture
async def token_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A local OAuth token endpoint: (its URL, the grant types it was asked for)."""
    grants: list[str] = []

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        grants.append(str(form["grant_type"]))
        return web.json_response({"access_token": "ya29.local-access-token",
                                  "expires_in": 3600, "token_type": "Bearer"})

    app = web.Application()
    app.router.add_post("/token", token)
    runner, port = await serve_on_loopback(app)
    try:
        yield f"http://127.0.0.1:{port}/token", grants
    finally:
        await runner.cleanup()


@pytest.mark.anyio
async def test_a_service_account_secret_authenticates_every_request(
    gcs: GCSEmulator, make_gcs: MakeGCS, monkeypatch: pytest.MonkeyPatch,
    token_server: tuple[str, list[str]], debug_logs: pytest.LogCaptureFixture,
) -> None:
    token_uri, grants = token_server
    account = _service_account(token_uri)
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__GCP_CREDENTIALS", json.dumps(account))
    async with FaultProxy(gcs.url) as proxy:
        result = make_gcs(location="k.bin", api_root=proxy.url,
                          credentials_secret="GCP_CREDENTIALS")
        async with result:
            await result.write("secret data")
            assert (await result.read("k.bin")).value == "secret data"

    assert grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]  # one token, reused
    assert [s.headers.get("Authorization") for s in proxy.seen] == [
        "Bearer ya29.local-access-token"] * 2
    lines = [r.getMessage() for r in debug_logs.records]
    assert not any("ya29.local" in line or "PRIVATE KEY" in line for line in lines)


@pytest.mark.anyio
async def test_an_emulator_without_credentials_gets_no_token(
    gcs: GCSEmulator, make_gcs: MakeGCS
) -> None:
    async with FaultProxy(gcs.url) as proxy:
        await make_gcs(api_root=proxy.url).write(1)

    assert "Authorization" not in proxy.seen[0].headers


@pytest.mark.anyio
async def test_an_emulator_ignores_application_default_credentials(
    gcs: GCSEmulator, make_gcs: MakeGCS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))

    written = await make_gcs().write(1)

    assert gcs.keys(BUCKET) == [stored_at(written)]


@pytest.mark.anyio
async def test_unloadable_credentials_are_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))

    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        await GCSResult(BUCKET).write(1)  # Google's API: no request is made


@pytest.mark.anyio
async def test_a_malformed_credentials_secret_is_reported_without_its_value(
    gcs: GCSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__GCP_CREDENTIALS",
                       json.dumps({"private_key": "hunter2-secret"}))
    result = GCSResult(BUCKET, api_root=gcs.url, credentials_secret="GCP_CREDENTIALS")

    with pytest.raises(ConfigError, match="service-account key") as caught:
        await result.write(1)

    assert "hunter2" not in str(caught.value)


# ---- construction -----------------------------------------------------------------------
def test_the_sdk_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gcloud.aio.storage", None)

    with pytest.raises(MissingExtraError, match=r"pip install 'asyncflow-engine\[gcs\]'"):
        GCSResult(BUCKET)


@pytest.mark.parametrize(("options", "message"), [
    ({"chunk_size": 1000}, "multiple of 262144"),
    ({"service_file": "a.json", "credentials_secret": "S"}, "not both"),
    ({"upload_options": {"acl": "x"}}, "unknown upload_options"),
    ({"max_connections": 0}, "max_connections"),
])
def test_bad_options_are_refused_when_the_result_is_made(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        GCSResult(BUCKET, **options)


def test_a_gs_url_as_bucket_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="bucket='results'"):
        GCSResult("gs://results")


def test_a_pickled_result_arrives_closed_and_usable(make_gcs: MakeGCS) -> None:
    result = make_gcs(location="{x}.bin")

    copy = cloudpickle.loads(cloudpickle.dumps(result))

    assert (copy.bucket, copy.location, copy.api_root) == (BUCKET, "{x}.bin", result.api_root)
    assert copy._scope is not result._scope and copy._scope.client is None
