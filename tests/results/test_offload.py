from __future__ import annotations

import contextvars
import os
import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from asyncflow._results._offload import run_sync
from asyncflow.results import LocalResult
from asyncflow.serializers import Serializer

pytestmark = pytest.mark.anyio

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def test_worker_calls_see_the_callers_context_variables() -> None:
    request_id.set("r-42")
    assert await run_sync(request_id.get) == "r-42"


async def test_worker_exceptions_reach_the_caller() -> None:
    def fail() -> None:
        raise ValueError("from the worker")

    with pytest.raises(ValueError, match="from the worker"):
        await run_sync(fail)


class GatedSerializer(Serializer):
    """Blocks in serialize() until the test releases it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def serialize(self, value: Any) -> bytes:
        self.started.set()
        self.release.wait()
        self.finished.set()
        return b"done"

    def deserialize(self, value: bytes) -> Any:
        return value


async def test_a_cancelled_write_waits_for_its_worker_and_leaves_no_temp_file(
    tmp_path: Path,
) -> None:
    serializer = GatedSerializer()
    result = LocalResult(dir=tmp_path, location="v.bin", serializer=serializer)
    async with anyio.create_task_group() as tg:
        tg.start_soon(result.write, 1)
        await anyio.to_thread.run_sync(serializer.started.wait)
        tg.cancel_scope.cancel()
        threading.Thread(target=serializer.release.set).start()
    # The task group only exits once the write's worker call has returned.
    assert serializer.finished.is_set()
    assert [name for name in os.listdir(tmp_path) if name.endswith(".tmp")] == []
