"""Checkpointing to object stores: 1,000 tasks each writing a 10 KiB result.

S3 (moto's server) and GCS (gcp-storage-emulator). The asyncflow side is a flow of 1,000
mapped tasks whose results checkpoint through S3Result / GCSResult (one client shared by
the run, created inside the timed region). The baseline writes the same 1,000 payloads
with plain SDK calls, all at once, through one client created before timing: aiobotocore
``put_object`` (same connection pool size) and gcloud-aio-storage ``upload`` (same
connection cap). Target: ratio <= 1.3.

Each server runs in a child process (a store's CPU time is not the client's) and, for a
second row, in a thread of this process (both ends share the interpreter's lock: the
worst case). Servers start before timing; the bucket is emptied before every round.
Further rows measure what creating a client costs, the reason clients are shared.

Run from the repository root: ``python -m benchmarks bench_storage``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from asyncflow import Flow, task
from asyncflow._results._base import Result
from asyncflow._results._gcs import GCSResult
from asyncflow._results._s3 import S3Result
from tests.servers.gcs_emulator import GCSEmulator
from tests.servers.moto_s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoS3Server

N_TASKS = 1_000
PAYLOAD = os.urandom(10 * 1024)
ROUNDS = 3
BUCKET = "bench"
GCS_CONNECTIONS = 8  # GCSResult's default for an emulator; the baseline gets the same

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SERVER_SCRIPT = """
import sys
from tests.servers.{module} import {cls}
server = {cls}().start()
print(server.port, flush=True)
sys.stdin.read()
server.stop()
"""


# ---- servers ----------------------------------------------------------------------------
@asynccontextmanager
async def _child_server(module: str, cls: str) -> AsyncIterator[str]:
    """A test server in a child process; yields its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVER_SCRIPT.format(module=module, cls=cls),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=_ROOT,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        port = int((await process.stdout.readline()).decode())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stdin.close()
        await process.wait()


@asynccontextmanager
async def _thread_server(kind: str) -> AsyncIterator[str]:
    """A test server in a thread of this process; yields its URL."""
    server: MotoS3Server | GCSEmulator = MotoS3Server() if kind == "s3" else GCSEmulator()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _http(method: str, url: str, body: bytes | None = None, **headers: str) -> bytes:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
        data: bytes = response.read()
        return data


def _s3_options(url: str) -> dict[str, Any]:
    return {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY}


async def _empty_s3(url: str, client: Any) -> None:
    await asyncio.to_thread(_http, "POST", f"{url}/moto-api/reset", b"")
    await client.create_bucket(Bucket=BUCKET)


async def _empty_gcs(url: str) -> None:
    await asyncio.to_thread(_http, "GET", f"{url}/wipe")
    body = json.dumps({"name": BUCKET}).encode()
    await asyncio.to_thread(_http, "POST", f"{url}/storage/v1/b?project=bench", body,
                            **{"Content-Type": "application/json"})


# ---- the two sides ----------------------------------------------------------------------
def _flow(name: str, result: Result) -> Flow:
    @task(result=result)
    async def produce(i: int) -> bytes:
        return PAYLOAD

    with Flow(name) as flow:
        produce.map(list(range(N_TASKS)))
    return flow


async def _run(flow: Flow) -> None:
    state = await flow.run()
    if not state.is_successful():
        raise RuntimeError(f"benchmark flow {flow.name!r} ended {state!r}")


def _key() -> str:
    return f"baseline/{uuid.uuid4()}.bin"


class _Timing:
    """Best wall time and best CPU time of this process, per side."""

    def __init__(self) -> None:
        self.wall = {"ours": float("inf"), "baseline": float("inf")}
        self.cpu = {"ours": float("inf"), "baseline": float("inf")}


async def _interleaved(
    empty: Callable[[], Awaitable[None]],
    ours: Callable[[], Awaitable[None]],
    baseline: Callable[[], Awaitable[None]],
) -> _Timing:
    """ROUNDS interleaved rounds of each side, the bucket emptied before each."""
    timing = _Timing()
    for _ in range(ROUNDS):
        for side in ("baseline", "ours"):
            await empty()
            gc.collect()
            cpu, start = time.process_time(), time.perf_counter()
            await (baseline() if side == "baseline" else ours())
            elapsed, used = time.perf_counter() - start, time.process_time() - cpu
            timing.wall[side] = min(timing.wall[side], elapsed)
            timing.cpu[side] = min(timing.cpu[side], used)
    return timing


async def _s3_row(url: str, where: str) -> dict[str, Any]:
    from aiobotocore.session import get_session

    options = _s3_options(url)
    result = S3Result(BUCKET, client_options=options)
    flow = _flow("bench-s3", result)
    async with get_session().create_client("s3", **options) as client:
        await _empty_s3(url, client)
        await result.write(b"warm-up")  # the thread's SDK session, as a running app has it

        async def baseline() -> None:
            await asyncio.gather(*(
                client.put_object(Bucket=BUCKET, Key=_key(), Body=PAYLOAD)
                for _ in range(N_TASKS)
            ))

        timing = await _interleaved(lambda: _empty_s3(url, client), lambda: _run(flow),
                                    baseline)
    return _row(f"S3 (moto, {where})", timing,
                "baseline: aiobotocore put_object x1000 via asyncio.gather, one client, "
                "same pool (botocore default, 10 connections)")


async def _gcs_row(url: str, where: str) -> dict[str, Any]:
    import aiohttp
    from gcloud.aio.storage import Storage

    result = GCSResult(BUCKET, api_root=url, max_connections=GCS_CONNECTIONS)
    flow = _flow("bench-gcs", result)
    connector = aiohttp.TCPConnector(limit=GCS_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        storage = Storage(api_root=url, session=session)

        async def baseline() -> None:
            await asyncio.gather(*(
                storage.upload(BUCKET, _key(), PAYLOAD, content_type="application/octet-stream",
                               force_resumable_upload=False)
                for _ in range(N_TASKS)
            ))

        timing = await _interleaved(lambda: _empty_gcs(url), lambda: _run(flow), baseline)
    return _row(f"GCS (emulator, {where})", timing,
                "baseline: gcloud-aio-storage upload x1000 via asyncio.gather, one Storage, "
                f"same cap ({GCS_CONNECTIONS} connections)")


def _row(store: str, timing: _Timing, notes: str) -> dict[str, Any]:
    ours, base = timing.wall["ours"], timing.wall["baseline"]
    cpu = (f"CPU of this process {timing.cpu['ours']:.2f} s vs {timing.cpu['baseline']:.2f} s "
           "(the server's included when it shares the process)")
    return {
        "workload": f"{N_TASKS} tasks each checkpointing 10 KiB to {store}",
        "asyncflow_s": round(ours, 4),
        "baseline_s": round(base, 4),
        "ratio": round(ours / base, 3),
        "target": "<= 1.3",
        "notes": f"{notes}; {N_TASKS / ours:,.0f} writes/s; {cpu}; best of {ROUNDS}",
    }


# ---- what a client costs ----------------------------------------------------------------
async def _client_costs(s3_url: str, gcs_url: str) -> list[dict[str, Any]]:
    import aiohttp
    from aiobotocore.session import get_session
    from gcloud.aio.storage import Storage

    options = _s3_options(s3_url)
    rows: list[dict[str, Any]] = []

    async def s3_new_session() -> None:
        async with get_session().create_client("s3", **options):
            pass

    shared = get_session()

    async def s3_shared_session() -> None:
        async with shared.create_client("s3", **options):
            pass

    async def gcs_new_client() -> None:
        async with aiohttp.ClientSession() as session:
            Storage(api_root=gcs_url, session=session)

    for label, make in [
        ("S3 client, new aiobotocore session", s3_new_session),
        ("S3 client from a warm session (what asyncflow does per store per run)",
         s3_shared_session),
        ("GCS Storage + aiohttp session", gcs_new_client),
    ]:
        await make()  # warm the imports
        times = []
        for _ in range(5):
            start = time.perf_counter()
            await make()
            times.append(time.perf_counter() - start)
        rows.append({"workload": f"create and close a client: {label}",
                     "asyncflow_s": round(min(times), 4),
                     "notes": f"best of 5; median {sorted(times)[2] * 1000:.1f} ms"})

    # One write per bare call (a client each) against writes inside `async with`.
    async def bare() -> None:
        for _ in range(50):
            await S3Result(BUCKET, client_options=options).write(PAYLOAD)

    async def shared_client() -> None:
        async with S3Result(BUCKET, client_options=options) as result:
            for _ in range(50):
                await result.write(PAYLOAD)

    start = time.perf_counter()
    await shared_client()
    shared_s = time.perf_counter() - start
    start = time.perf_counter()
    await bare()
    bare_s = time.perf_counter() - start
    rows.append({"workload": "50 sequential S3 writes: a client per call vs `async with`",
                 "asyncflow_s": round(shared_s, 4), "baseline_s": round(bare_s, 4),
                 "ratio": round(shared_s / bare_s, 3),
                 "notes": "asyncflow column: one client for the block; baseline column: "
                          "a bare call outside a run, which opens and closes a client"})
    return rows


async def run_benchmarks() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with _child_server("moto_s3", "MotoS3Server") as s3_url, \
            _child_server("gcs_emulator", "GCSEmulator") as gcs_url:
        rows.append(await _s3_row(s3_url, "child process"))
        rows.append(await _gcs_row(gcs_url, "child process"))
        rows.extend(await _client_costs(s3_url, gcs_url))
    async with _thread_server("s3") as url:
        rows.append(await _s3_row(url, "same process"))
    async with _thread_server("gcs") as url:
        rows.append(await _gcs_row(url, "same process"))
    return rows


if __name__ == "__main__":
    from benchmarks.__main__ import print_table

    print_table(asyncio.run(run_benchmarks()))
