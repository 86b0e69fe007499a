"""Checkpoint every task of a flow to S3, read the results back and list the keys.

The flow is the one from the result-handler tutorial: ``add(1, y=2)``, then
``add(x=first, y=100)``, with a flow-level S3Result. To use a real store, set:

- ``ASYNCFLOW_EXAMPLE_S3_BUCKET``: an existing bucket to write to;
- credentials and region the AWS SDK's usual way (``AWS_PROFILE``, or
  ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, an instance role);
- ``AWS_ENDPOINT_URL_S3`` for an S3-compatible store (MinIO, Cloudflare R2, Ceph).

Without ``ASYNCFLOW_EXAMPLE_S3_BUCKET``, the example starts moto's S3 server on
127.0.0.1 (``pip install 'moto[server]'``, run from a checkout) and says so.

Run: python examples/s3_results.py

``asyncflow run examples/s3_results.py`` runs the module's ``flow``: with
``ASYNCFLOW_EXAMPLE_S3_BUCKET`` set it checkpoints to that bucket; without it the results
stay in memory and nothing is written anywhere (the script is the way to see them land in
a local moto server).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asyncflow import Flow, Task, task
from asyncflow.results import S3Result

LOCAL_BUCKET = "prefect-results"


@task
def add(x: int, y: int = 1) -> int:
    return x + y


def build(bucket: str | None, client_options: dict[str, Any] | None = None,
          ) -> tuple[Flow, Task[int], Task[int]]:
    """The tutorial's flow, checkpointing to ``bucket`` (in memory when it is None)."""
    results = S3Result(bucket=bucket, client_options=client_options) if bucket else None
    with Flow("my handled flow!", result=results) as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)
    return flow, first_result, second_result


flow, _, _ = build(os.environ.get("ASYNCFLOW_EXAMPLE_S3_BUCKET"))


@contextmanager
def s3_store() -> Iterator[tuple[str, dict[str, Any]]]:
    """The bucket and client options to use: the configured store, or a local moto server."""
    bucket = os.environ.get("ASYNCFLOW_EXAMPLE_S3_BUCKET")
    if bucket:
        print(f"Using the S3 bucket {bucket!r} (ASYNCFLOW_EXAMPLE_S3_BUCKET).")
        yield bucket, {}
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/servers/
    from tests.servers.moto_s3 import MotoS3Server

    with MotoS3Server() as server:
        print(f"No ASYNCFLOW_EXAMPLE_S3_BUCKET set: started a local moto S3 server at "
              f"{server.url} with the bucket {LOCAL_BUCKET!r}.")
        server.create_bucket(LOCAL_BUCKET)
        yield LOCAL_BUCKET, server.client_options()


async def list_keys(bucket: str, client_options: dict[str, Any], prefix: str) -> list[str]:
    """The keys under ``prefix`` (what ``aws s3 ls --recursive`` prints)."""
    from aiobotocore.session import get_session

    keys: list[str] = []
    async with get_session().create_client("s3", **client_options) as client:
        async for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


async def main() -> None:
    with s3_store() as (bucket, client_options):
        handled, first_result, second_result = build(bucket, client_options)
        state = await handled.run()
        print(f"Flow run: {state!r}")

        reader = S3Result(bucket=bucket, client_options=client_options)
        for name, t in [("first_result", first_result), ("second_result", second_result)]:
            location = state.result[t]._result.location
            value = (await reader.read(location)).value
            print(f"  {name}: stored at {location!r}, read back {value!r}")

        today = f"{datetime.datetime.now(datetime.timezone.utc):%Y/%m/%d}/"
        print(f"Keys under s3://{bucket}/{today}:")
        for key in await list_keys(bucket, client_options, today):
            print(f"  s3://{bucket}/{key}")


if __name__ == "__main__":
    asyncio.run(main())
