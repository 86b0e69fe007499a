"""S3Result against moto's S3 server: reads, writes, errors, retries, credentials, sharing."""

from __future__ import annotations

import json
import logging
import pickle
import re
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import cloudpickle
import pytest

from asyncflow._core._context import FlowRunContext, flow_run_var
from asyncflow._core._exceptions import (
    ConfigError,
    MissingExtraError,
    ResultNotFoundError,
    ResultReadError,
    ResultWriteError,
)
from asyncflow._core._resources import RunResources
from asyncflow._results._s3 import S3Result
from asyncflow._serializers._pickle import PickleSerializer
from tests.servers.moto_s3 import REGION, MotoS3Server
from tests.storage.conftest import BUCKET, stored_at
from tests.storage.faults import Fault, FaultProxy

DEFAULT_KEY = re.compile(r"^\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.asyncflow_result$")

MakeS3 = Callable[..., S3Result]


def iam_user(moto: MotoS3Server, name: str, actions: list[str]) -> dict[str, str]:
    """An IAM user allowed only ``actions``; its keys."""
    iam = moto.boto3_client("iam")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"]}


def client_side_log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every log line but those of the in-process test server (moto logs what it receives)."""
    return [r.getMessage() for r in caplog.records if not r.name.startswith(("moto", "werkzeug"))]


# ---- reading and writing ------------------------------------------------------------------
@pytest.mark.anyio
async def test_write_stores_a_pickle_at_a_dated_default_key(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    written = await make_s3().write({"answer": 42})

    key = stored_at(written)
    assert DEFAULT_KEY.match(key)
    assert written.value == {"answer": 42}
    assert moto.keys(BUCKET) == [key]
    body = moto.boto3_client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert cloudpickle.loads(body) == {"answer": 42}


@pytest.mark.anyio
async def test_read_returns_a_new_result_with_the_value(make_s3: MakeS3) -> None:
    result = make_s3()
    written = await result.write([1, 2, 3])

    loaded = await result.read(stored_at(written))

    assert loaded.value == [1, 2, 3]
    assert loaded.location == written.location
    assert loaded is not result and result.value is None and result.location is None


@pytest.mark.anyio
async def test_location_templates_are_filled_from_the_keyword_arguments(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    result = make_s3(location="{flow_name}/{task_name}-{map_index}.pickle")

    written = await result.write(7, flow_name="etl", task_name="load", map_index=3)

    assert written.location == "etl/load-3.pickle"
    assert moto.keys(BUCKET) == ["etl/load-3.pickle"]


@pytest.mark.anyio
async def test_exists_tells_stored_keys_from_missing_ones(make_s3: MakeS3) -> None:
    result = make_s3(location="{name}.bin")
    await result.write(b"data", name="there")

    assert await result.exists("there.bin") is True
    assert await result.exists("missing.bin") is False
    assert await result.exists("{name}.bin", name="there") is True


@pytest.mark.anyio
async def test_reading_a_missing_key_names_the_bucket_and_the_key(make_s3: MakeS3) -> None:
    with pytest.raises(ResultNotFoundError) as caught:
        await make_s3().read("models/model.pickle")

    assert isinstance(caught.value, KeyError)
    assert "s3://results/models/model.pickle" in str(caught.value)


@pytest.mark.anyio
async def test_upload_options_reach_the_stored_object(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    result = make_s3(location="tagged.bin", upload_options={
        "Metadata": {"owner": "etl"}, "ContentType": "application/x-python-pickle",
    })

    await result.write("x")

    head = moto.boto3_client().head_object(Bucket=BUCKET, Key="tagged.bin")
    assert head["Metadata"] == {"owner": "etl"}
    assert head["ContentType"] == "application/x-python-pickle"


@pytest.mark.anyio
async def test_serializers_other_than_the_default_pickle_run_off_the_event_loop(
    make_s3: MakeS3
) -> None:
    threads: list[threading.Thread] = []

    class Recording(PickleSerializer):
        def serialize(self, value: object) -> bytes:
            threads.append(threading.current_thread())
            return super().serialize(value)

    async with make_s3(serializer=Recording()) as result:
        await result.write(b"small")
        await result.write({"a": 1})

    assert len(threads) == 2
    assert all(thread is not threading.main_thread() for thread in threads)


# ---- large values -------------------------------------------------------------------------
@pytest.mark.anyio
async def test_values_over_the_threshold_are_uploaded_in_parts(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    value = bytes(range(256)) * (45 * 1024)  # 11.25 MiB: 3 parts of 5 MiB
    result = make_s3(location="big.bin", multipart_threshold=1024, part_size=5 * 1024 * 1024)

    await result.write(value)

    head = moto.boto3_client().head_object(Bucket=BUCKET, Key="big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of 3 parts
    assert (await result.read("big.bin")).value == value


@pytest.mark.anyio
async def test_a_failed_multipart_upload_is_aborted(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    async with FaultProxy(moto.url) as proxy:
        proxy.fail(1, Fault.s3_error(400, "InvalidPart", "part refused"),
                   when=lambda r: r.query.get("partNumber") == "2")
        result = make_s3(location="big.bin", multipart_threshold=1024,
                         client_options={**moto.client_options(), "endpoint_url": proxy.url})

        with pytest.raises(ResultWriteError, match="InvalidPart"):
            await result.write(b"x" * (11 * 1024 * 1024))

    uploads = moto.boto3_client().list_multipart_uploads(Bucket=BUCKET)
    assert uploads.get("Uploads", []) == []
    assert moto.keys(BUCKET) == []


# ---- errors -----------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_missing_bucket_is_named_on_write_and_read(make_s3: MakeS3) -> None:
    result = make_s3("no-such-bucket", location="k.bin")

    with pytest.raises(ResultWriteError, match="bucket 'no-such-bucket' does not exist"):
        await result.write(1)
    with pytest.raises(ResultReadError, match="bucket 'no-such-bucket' does not exist"):
        await result.read("k.bin")


@pytest.mark.anyio
async def test_access_denied_says_which_permission_is_missing(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    moto.boto3_client().put_object(Bucket=BUCKET, Key="k.bin", Body=pickle.dumps("stored"))
    keys = iam_user(moto, "reader", ["s3:GetObject"])
    moto.enforce_auth()
    result = make_s3(location="k.bin", client_options={**moto.client_options(), **keys})

    with pytest.raises(ResultWriteError) as caught:
        await result.write("new value")

    message = str(caught.value)
    assert "access denied to s3://results/k.bin" in message
    assert "AccessDenied" in message and "s3:PutObject" in message
    assert keys["aws_secret_access_key"] not in message
    assert (await result.read("k.bin")).value == "stored"  # reading is allowed


@pytest.mark.anyio
async def test_unknown_keys_are_reported_without_the_keys(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    moto.enforce_auth()

    with pytest.raises(ResultWriteError, match="access denied") as caught:
        await make_s3().write(1)

    assert "InvalidAccessKeyId" in str(caught.value)
    assert moto.client_options()["aws_access_key_id"] not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("fault", [
    Fault.s3_slow_down(),
    Fault.s3_error(500, "InternalError", "We encountered an internal error."),
    Fault.s3_error(503, "ServiceUnavailable", "Reduce your request rate."),
], ids=["SlowDown", "InternalError", "ServiceUnavailable"])
async def test_throttling_and_server_errors_are_retried(
    moto: MotoS3Server, make_s3: MakeS3, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncflow.results")
    async with FaultProxy(moto.url) as proxy:
        proxy.fail(2, fault)
        result = make_s3(location="k.bin",
                         client_options={**moto.client_options(), "endpoint_url": proxy.url})

        written = await result.write("finally")

    assert [s.answered_by_proxy for s in proxy.seen] == [True, True, False]
    assert written.location == "k.bin" and moto.keys(BUCKET) == ["k.bin"]
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2


@pytest.mark.anyio
async def test_throttling_gives_up_after_the_bounded_retries(
    moto: MotoS3Server, make_s3: MakeS3
) -> None:
    async with FaultProxy(moto.url) as proxy:
        proxy.fail(10, Fault.s3_slow_down())
        result = make_s3(retries=2,
                         client_options={**moto.client_options(), "endpoint_url": proxy.url})

        with pytest.raises(ResultWriteError, match=r"after 3 attempts.*SlowDown"):
            await result.write(1)

    assert len(proxy.seen) == 3


@pytest.mark.anyio
async def test_an_unreachable_server_fails_after_bounded_retries() -> None:
    server = MotoS3Server().start()
    options = server.client_options()
    server.stop()
    result = S3Result(BUCKET, client_options=options, retries=2, retry_backoff=0.01)

    with pytest.raises(ResultWriteError) as caught:
        await result.write(1)

    assert "after 3 attempts" in str(caught.value)
    assert "EndpointConnectionError" in str(caught.value)


# ---- credentials ------------------------------------------------------------------------
@pytest.mark.anyio
async def test_keys_from_a_named_secret_are_used(
    moto: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = iam_user(moto, "writer", ["s3:*"])
    secret = {"ACCESS_KEY": keys["aws_access_key_id"],
              "SECRET_ACCESS_KEY": keys["aws_secret_access_key"]}
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__AWS_CREDENTIALS", json.dumps(secret))
    moto.enforce_auth()
    endpoint = {"endpoint_url": moto.url, "region_name": REGION}

    with pytest.raises(ResultWriteError, match="access denied"):  # the dummy env keys
        await S3Result(BUCKET, client_options=endpoint, retries=0).write(1)
    written = await S3Result(BUCKET, client_options=endpoint,
                             credentials_secret="AWS_CREDENTIALS").write(1)

    moto.enforce_auth(False)
    assert moto.keys(BUCKET) == [written.location]


@pytest.mark.anyio
async def test_a_malformed_credentials_secret_is_reported_without_its_value(
    moto: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__AWS_CREDENTIALS",
                       json.dumps({"KEY": "hunter2-secret"}))
    result = S3Result(BUCKET, client_options={"endpoint_url": moto.url},
                      credentials_secret="AWS_CREDENTIALS")

    with pytest.raises(ConfigError, match="ACCESS_KEY and") as caught:
        await result.write(1)

    assert "hunter2" not in str(caught.value)


@pytest.mark.anyio
async def test_no_credential_or_signature_reaches_logs_or_errors(
    moto: MotoS3Server, make_s3: MakeS3, debug_logs: pytest.LogCaptureFixture
) -> None:
    keys = iam_user(moto, "reader2", ["s3:GetObject"])
    moto.boto3_client().put_object(Bucket=BUCKET, Key="k.bin", Body=pickle.dumps(1))
    moto.enforce_auth()
    result = make_s3(location="k.bin", retries=0,
                     client_options={**moto.client_options(), **keys})
    debug_logs.clear()  # the setup's own boto3 calls logged the new keys

    await result.read("k.bin")
    with pytest.raises(ResultWriteError) as caught:
        await result.write(2)

    texts = client_side_log_lines(debug_logs)
    texts += [str(caught.value), "".join(traceback.format_exception(caught.value)),
              repr(result)]
    assert any("Sending http request" in t for t in texts)  # botocore's debug lines were seen
    for text in texts:
        assert keys["aws_access_key_id"] not in text
        assert keys["aws_secret_access_key"] not in text
        assert not re.search(r"Signature[=:]\s*[0-9a-f]{16}", text), text[:300]


@pytest.mark.anyio
async def test_session_tokens_are_masked_in_debug_logs(
    make_s3: MakeS3, moto: MotoS3Server, debug_logs: pytest.LogCaptureFixture
) -> None:
    token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789"
    result = make_s3(client_options={**moto.client_options(), "aws_session_token": token})

    await result.write(1)

    lines = client_side_log_lines(debug_logs)
    assert any("X-Amz-Security-Token" in line for line in lines)
    assert not any(token in line for line in lines)


# ---- clients: created once, shared, closed ---------------------------------------------
def opened(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("opening a client")]


def closed(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("closing the client")]


@pytest.mark.anyio
async def test_async_with_keeps_one_client_for_the_block(
    make_s3: MakeS3, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")
    async with make_s3(location="{i}.bin") as result:
        for i in range(5):
            written = await result.write(i, i=i)
            assert (await result.read(stored_at(written))).value == i
        assert len(opened(caplog)) == 1 and closed(caplog) == []

    assert len(closed(caplog)) == 1


@pytest.mark.anyio
async def test_a_bare_call_opens_and_closes_its_own_client(
    make_s3: MakeS3, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")

    await make_s3().write(1)
    await make_s3().write(2)

    assert len(opened(caplog)) == 2 and len(closed(caplog)) == 2


@pytest.mark.anyio
async def test_inside_a_run_every_result_on_one_store_shares_the_run_client(
    make_s3: MakeS3, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")
    run = FlowRunContext(values={}, resources=RunResources(), flow=None)
    token = flow_run_var.set(run)
    try:
        for i in range(3):
            await make_s3().write(i)  # a new S3Result each time, same store
        async with make_s3() as result:  # borrows the run's client
            await result.write(3)
        assert len(opened(caplog)) == 1 and closed(caplog) == []
    finally:
        flow_run_var.reset(token)
        await run.resources.aclose()

    assert len(closed(caplog)) == 1


@pytest.mark.anyio
async def test_different_credentials_get_different_clients(
    make_s3: MakeS3, moto: MotoS3Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncflow.results")
    other = {**moto.client_options(), "aws_access_key_id": "another-key"}
    run = FlowRunContext(values={}, resources=RunResources(), flow=None)
    token = flow_run_var.set(run)
    try:
        await make_s3().write(1)
        await make_s3(client_options=other).write(2)
        await make_s3().write(3)
    finally:
        flow_run_var.reset(token)
        await run.resources.aclose()

    assert len(opened(caplog)) == 2 and len(closed(caplog)) == 2


@pytest.mark.anyio
async def test_a_client_that_cannot_be_created_is_a_configuration_error() -> None:
    result = S3Result(BUCKET, client_options={"endpoint_url": "http://user:pw@bad host"})

    with pytest.raises(ConfigError, match="could not create an S3 client") as caught:
        await result.write(1)

    assert "pw" not in str(caught.value)


def test_a_pickled_result_arrives_closed_and_usable(make_s3: MakeS3) -> None:
    result = make_s3(location="{x}.bin")

    copy = cloudpickle.loads(cloudpickle.dumps(result))

    assert copy.bucket == BUCKET and copy.location == "{x}.bin"
    assert copy.client_options == result.client_options
    assert copy._scope is not result._scope and copy._scope.client is None


# ---- construction -----------------------------------------------------------------------
def test_the_sdk_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiobotocore.session", None)

    with pytest.raises(MissingExtraError, match=r"pip install 'asyncflow-engine\[s3\]'"):
        S3Result(BUCKET)


@pytest.mark.parametrize(("options", "message"), [
    ({"client_options": {"endpoint": "http://x"}}, "unknown client_options"),
    ({"upload_options": {"Key": "k"}}, "cannot set"),
    ({"part_size": 1024}, "at least 5242880"),
    ({"retries": -1}, "retries must be"),
    ({"credentials_secret": "S", "client_options": {"aws_access_key_id": "a"}}, "not both"),
])
def test_bad_options_are_refused_when_the_result_is_made(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        S3Result(BUCKET, **options)  # type: ignore[arg-type]


def test_the_repr_shows_no_options() -> None:
    result = S3Result(BUCKET, client_options={"aws_secret_access_key": "hunter2"})

    assert "hunter2" not in repr(result)


def test_asyncflow_imports_without_the_storage_sdks() -> None:
    script = (
        "import sys\n"
        "for name in ('aiobotocore', 'botocore', 'boto3', 'gcloud', 'aiohttp'):\n"
        "    sys.modules[name] = None\n"
        "import asyncflow, asyncflow.results\n"
        "from asyncflow._results._gcs import GCSResult\n"
        "from asyncflow._results._s3 import S3Result\n"
        "from asyncflow._core._exceptions import MissingExtraError\n"
        "for make in (S3Result, GCSResult):\n"
        "    try:\n"
        "        make('bucket')\n"
        "    except MissingExtraError as exc:\n"
        "        print(exc)\n"
    )
    root = Path(__file__).resolve().parents[2]

    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=50, check=False)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "pip install 'asyncflow-engine[s3]'" in lines[0]
    assert "pip install 'asyncflow-engine[gcs]'" in lines[1]
