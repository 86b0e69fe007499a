"""The tutorial's GCS flow: a flow-level GCSResult, then the objects listed in the bucket.

Each task's return value is pickled into its own object; the run's states know where
(``state.result[task]._result.location``) and the keys are then listed, as the tutorial
does with ``gsutil ls -r gs://prefect_results``. To use a real bucket, set:

- ``ASYNCFLOW_EXAMPLE_GCS_BUCKET``: an existing bucket to write to;
- credentials the Google way: ``GOOGLE_APPLICATION_CREDENTIALS`` (a service-account file),
  ``gcloud auth application-default login``, or the metadata server on Google Cloud;
- or ``STORAGE_EMULATOR_HOST`` (e.g. ``http://127.0.0.1:9023``) for an emulator you run.

Without ``ASYNCFLOW_EXAMPLE_GCS_BUCKET``, the example starts gcp-storage-emulator in
memory on 127.0.0.1 (``pip install gcp-storage-emulator``, run from a checkout) and says so.

Run: python examples/gcs_results.py

``asyncflow run examples/gcs_results.py`` runs the module's ``flow``: with
``ASYNCFLOW_EXAMPLE_GCS_BUCKET`` set it checkpoints to that bucket (``STORAGE_EMULATOR_HOST``
is honoured); without it the results stay in memory and nothing is written anywhere (the
script is the way to see them land in a local emulator).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asyncflow import Flow, Task, task
from asyncflow.results import GCSResult

LOCAL_BUCKET = "prefect_results"


@task
def add(x: int, y: int = 1) -> int:
    return x + y


def build(bucket: str | None, api_root: str | None = None,
          ) -> tuple[Flow, Task[int], Task[int]]:
    """The tutorial's flow, checkpointing to ``bucket`` (in memory when it is None)."""
    results = GCSResult(bucket=bucket, api_root=api_root) if bucket else None
    with Flow("my handled flow!", result=results) as flow:
        first_result = add(1, y=2)
        second_result = add(x=first_result, y=100)
    return flow, first_result, second_result


flow, _, _ = build(os.environ.get("ASYNCFLOW_EXAMPLE_GCS_BUCKET"))


@contextmanager
def gcs_store() -> Iterator[tuple[str, str | None]]:
    """The bucket and API root to use: the configured store, or a local emulator."""
    bucket = os.environ.get("ASYNCFLOW_EXAMPLE_GCS_BUCKET")
    if bucket:
        print(f"Using the GCS bucket {bucket!r} (ASYNCFLOW_EXAMPLE_GCS_BUCKET).")
        yield bucket, None
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/servers/
    from tests.servers.gcs_emulator import GCSEmulator

    with GCSEmulator() as emulator:
        print(f"No ASYNCFLOW_EXAMPLE_GCS_BUCKET set: started a local GCS emulator at "
              f"{emulator.url} with the bucket {LOCAL_BUCKET!r}.")
        emulator.create_bucket(LOCAL_BUCKET)
        yield LOCAL_BUCKET, emulator.url


async def list_objects(bucket: str, api_root: str | None) -> list[str]:
    """Every object name in the bucket (what ``gsutil ls -r`` prints)."""
    import aiohttp
    from gcloud.aio.storage import Storage

    names: list[str] = []
    async with aiohttp.ClientSession() as session:
        storage = Storage(session=session, api_root=api_root)
        params = {"pageToken": ""}
        while True:
            page = await storage.list_objects(bucket, params=params)
            names.extend(item["name"] for item in page.get("items", []))
            if not page.get("nextPageToken"):
                return names
            params = {"pageToken": page["nextPageToken"]}


async def main() -> None:
    with gcs_store() as (bucket, api_root):
        handled, first_result, second_result = build(bucket, api_root)
        state = await handled.run()
        print(f"Flow run: {state!r}")
        for name, t in [("first_result", first_result), ("second_result", second_result)]:
            print(f"  state.result[{name}]._result.location = "
                  f"{state.result[t]._result.location!r}")

        value = (await GCSResult(bucket=bucket, api_root=api_root).read(
            state.result[second_result]._result.location)).value
        print(f"Read back second_result: {value!r}")

        print(f"$ gsutil ls -r gs://{bucket}")
        for name in await list_objects(bucket, api_root):
            print(f"gs://{bucket}/{name}")


if __name__ == "__main__":
    asyncio.run(main())
