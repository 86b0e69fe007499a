"""LocalResult write throughput against plain aiofiles code writing the same files.

Workloads:

* 10,000 results of 1 KiB written by 64 concurrent writers. ``LocalResult.write``
  pickles the value and writes it atomically and durably: unnamed (``O_TMPFILE``) or
  temporary file, ``fsync``, link or rename, ``fsync`` of the directory, all in one
  worker-thread call. The baseline is the
  plain aiofiles code people write (``open``/``write``/``close``, three thread hops, no
  fsync, not atomic) with the same 64 writers. Target: ratio <= 1.5. A second row
  compares with plain aiofiles code that also fsyncs each file, the fair durable baseline.
* One 100 MiB result: write and read throughput (bytes/s in the notes) against aiofiles
  writing/reading the same bytes.
* The 10,000 small writes again on tmpfs (``/dev/shm``, where present): with no disk in
  the way this row is asyncflow's own overhead.

On a real disk most of the small-write time is the kernel's: an atomic, durable write
is a file creation plus two fsyncs, a plain write one creation. The rows show both.

Rounds are interleaved (baseline, durable baseline, LocalResult) and the best of each is
kept, so background load hits every side alike. Every round writes into a fresh directory.

Run from the repository root: ``python -m benchmarks bench_results``.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiofiles
import aiofiles.os
import anyio

from asyncflow.results import LocalResult

from ._timing import row

N_SMALL = 10_000
SMALL_SIZE = 1024
CONCURRENCY = 64
ROUNDS = 3
LARGE_SIZE = 100 * 1024 * 1024
LARGE_ROUNDS = 3
TMPFS = "/dev/shm"


async def _run_writers(count: int, write_one: Callable[[int], Awaitable[Any]]) -> None:
    """``write_one(0..count-1)`` with CONCURRENCY writers pulling from one queue."""
    indices: Iterator[int] = iter(range(count))

    async def writer() -> None:
        for i in indices:
            await write_one(i)

    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENCY):
            tg.start_soon(writer)


async def _timed(directory_parent: str, body: Callable[[str], Awaitable[Any]]) -> float:
    directory = tempfile.mkdtemp(dir=directory_parent)
    try:
        os.sync()  # start every round with no dirty pages from the previous one
        gc.collect()
        start = time.perf_counter()
        await body(directory)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _small_writes(parent: str, *, durable_row: bool = True) -> list[dict[str, Any]]:
    payload = os.urandom(SMALL_SIZE)

    async def plain(directory: str) -> None:
        async def write_one(i: int) -> None:
            async with aiofiles.open(os.path.join(directory, f"r{i}"), "wb") as file:
                await file.write(payload)

        await _run_writers(N_SMALL, write_one)

    async def plain_fsync(directory: str) -> None:
        async def write_one(i: int) -> None:
            async with aiofiles.open(os.path.join(directory, f"r{i}"), "wb") as file:
                await file.write(payload)
                await file.flush()
                await aiofiles.os.wrap(os.fsync)(file.fileno())

        await _run_writers(N_SMALL, write_one)

    async def local_result(directory: str) -> None:
        result = LocalResult(dir=directory, location="r{i}")

        async def write_one(i: int) -> None:
            await result.write(payload, i=i)

        await _run_writers(N_SMALL, write_one)

    best_plain = best_fsync = best_ours = float("inf")
    for _ in range(ROUNDS):
        best_plain = min(best_plain, await _timed(parent, plain))
        best_fsync = min(best_fsync, await _timed(parent, plain_fsync))
        best_ours = min(best_ours, await _timed(parent, local_result))
    per_file = f"{best_ours / N_SMALL * 1e6:.0f} us/result"
    if not durable_row:
        return [
            dict(
                row(
                    f"LocalResult.write {N_SMALL:,} x 1 KiB on tmpfs ({TMPFS})",
                    best_ours,
                    best_plain,
                    "ratio <= 1.5",
                    f"no disk, so this is asyncflow's own overhead vs plain aiofiles; {per_file}",
                )
            )
        ]
    return [
        dict(
            row(
                f"LocalResult.write {N_SMALL:,} x 1 KiB, {CONCURRENCY} concurrent",
                best_ours,
                best_plain,
                "ratio <= 1.5",
                f"vs plain aiofiles open/write/close (no fsync); ours: atomic + fsync "
                f"file and dir; {per_file}",
            )
        ),
        dict(
            row(
                f"LocalResult.write {N_SMALL:,} x 1 KiB vs durable plain code",
                best_ours,
                best_fsync,
                "ratio <= 1.5",
                "vs plain aiofiles open/write/fsync/close (durable, not atomic)",
            )
        ),
    ]


def _rate(size: int, seconds: float) -> str:
    return f"{size / seconds / 2**20:,.0f} MiB/s"


async def _large(parent: str) -> list[dict[str, Any]]:
    payload = os.urandom(LARGE_SIZE)

    async def plain_write(directory: str) -> None:
        async with aiofiles.open(os.path.join(directory, "big"), "wb") as file:
            await file.write(payload)
            await file.flush()
            await aiofiles.os.wrap(os.fsync)(file.fileno())

    async def ours_write(directory: str) -> None:
        await LocalResult(dir=directory, location="big").write(payload)

    best_plain = best_ours = float("inf")
    for _ in range(LARGE_ROUNDS):
        best_plain = min(best_plain, await _timed(parent, plain_write))
        best_ours = min(best_ours, await _timed(parent, ours_write))
    rows = [
        dict(
            row(
                "LocalResult.write one 100 MiB result",
                best_ours,
                best_plain,
                "report bytes/s",
                f"{_rate(LARGE_SIZE, best_ours)} (pickle + atomic + fsync) vs "
                f"{_rate(LARGE_SIZE, best_plain)} aiofiles write + fsync",
            )
        )
    ]

    directory = tempfile.mkdtemp(dir=parent)
    try:
        written = await LocalResult(dir=directory, location="big").write(payload)
        path = str(written.location)
        reader = LocalResult(dir=directory)
        best_plain = best_ours = float("inf")
        for _ in range(LARGE_ROUNDS):
            gc.collect()
            start = time.perf_counter()
            async with aiofiles.open(path, "rb") as file:
                data = await file.read()
            best_plain = min(best_plain, time.perf_counter() - start)
            del data
            gc.collect()
            start = time.perf_counter()
            value = (await reader.read(path)).value
            best_ours = min(best_ours, time.perf_counter() - start)
            assert len(value) == LARGE_SIZE
            del value
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    rows.append(
        dict(
            row(
                "LocalResult.read one 100 MiB result",
                best_ours,
                best_plain,
                "report bytes/s",
                f"{_rate(LARGE_SIZE, best_ours)} (read + unpickle) vs "
                f"{_rate(LARGE_SIZE, best_plain)} aiofiles read (page cache)",
            )
        )
    )
    return rows


async def run_benchmarks() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    parent = tempfile.mkdtemp(prefix="asyncflow-bench-results-")
    try:
        rows += await _small_writes(parent)
        rows += await _large(parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    parent_on_tmpfs = _tmpfs_dir()
    if parent_on_tmpfs is not None:
        try:
            rows += await _small_writes(parent_on_tmpfs, durable_row=False)
        finally:
            shutil.rmtree(parent_on_tmpfs, ignore_errors=True)
    return rows


def _tmpfs_dir() -> str | None:
    if not os.path.isdir(TMPFS):
        return None
    return tempfile.mkdtemp(prefix="asyncflow-bench-results-", dir=TMPFS)


if __name__ == "__main__":
    import asyncio

    from .__main__ import print_table

    print_table(asyncio.run(run_benchmarks()))
