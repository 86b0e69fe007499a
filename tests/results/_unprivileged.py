"""Run code under real file permissions, even when the tests run as root.

Root bypasses file modes through the CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
capabilities. Linux keeps capabilities per thread, and threads inherit them from the
thread that starts them, so a fresh thread that drops those two capabilities from its
effective set (and every worker thread its event loop starts) gets EACCES from a file
with no permissions, exactly as an ordinary user would.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest

from asyncflow._results import _offload

T = TypeVar("T")

_CAPABILITY_VERSION_3 = 0x20080522
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_file_permission_override() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    header = _Header(_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def run_unprivileged(func: Callable[[], Awaitable[T]]) -> T:
    """``anyio.run(func)`` in a new thread that file modes apply to, even for root.

    Result I/O runs in a pool of worker threads; the pool is replaced for the call so that
    its threads are started by (and inherit the capabilities of) the unprivileged thread.
    """
    if os.geteuid() != 0:
        return anyio.run(func)
    if not sys.platform.startswith("linux"):
        pytest.skip("running as root and dropping file capabilities needs Linux")
    outcome: dict[str, Any] = {}
    saved_executor, _offload._executor = _offload._executor, None
    try:
        _run_in_thread(func, outcome)
    finally:
        executor, _offload._executor = _offload._executor, saved_executor
        if executor is not None:
            executor.shutdown()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def _run_in_thread(func: Callable[[], Awaitable[Any]], outcome: dict[str, Any]) -> None:

    def target() -> None:
        try:
            _drop_file_permission_override()
            outcome["value"] = anyio.run(func)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
