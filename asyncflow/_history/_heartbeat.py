"""Heartbeats: telling a run whose process is gone from a run still going.

While a run is recorded, its flow-run row names the process running it (``host``,
``pid``, and the process's start time, so a pid the system has since given to another
process is not mistaken for it) and the time of its last beat, written by the recorder's
writer every :data:`HEARTBEAT_INTERVAL` seconds along with the transitions.

A run that has not ended reads as ``Crashed`` when its process is gone: on the same host,
when the pid is not alive or belongs to a process started at another time; on another
host, when no beat came for :data:`MISSED_BEATS` intervals. A row from before heartbeats
(no host recorded) is never read as crashed: nothing says its process is gone.
"""

from __future__ import annotations

import functools
import os
import socket
import time

#: Seconds between two beats of a running run.
HEARTBEAT_INTERVAL = 10.0
#: A run on another host with no beat for this many intervals reads as crashed.
MISSED_BEATS = 3
#: Start times read from ``/proc`` are rounded to clock ticks; allow for that and for
#: the boot time's rounding.
_START_TOLERANCE = 2.0


@functools.cache
def host_name() -> str:
    return socket.gethostname()


@functools.cache
def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def process_started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if that cannot be
    told here (no ``/proc``) or there is no such process."""
    boot = _boot_time()
    if boot is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        ticks = int(fields[19])  # field 22 of the whole line: starttime, in clock ticks
    except (IndexError, ValueError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


@functools.cache
def this_process() -> tuple[str, int, float | None]:
    """``(host, pid, start time)`` of this process, as the recorder writes them."""
    pid = os.getpid()
    return host_name(), pid, process_started_at(pid)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (anyone's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    except (OSError, OverflowError):
        return False
    return True


def process_is_gone(
    host: str | None,
    pid: int | None,
    started_at: float | None,
    heartbeat_at: float | None,
    *,
    now: float | None = None,
    interval: float = HEARTBEAT_INTERVAL,
) -> bool:
    """Whether the process that recorded an unfinished run is gone (see the module)."""
    if host is None:
        return False
    if host == host_name() and pid is not None:
        if pid == os.getpid():
            return False  # this process: its own runs are going (or ended, and say so)
        if not pid_alive(pid):
            return True
        if started_at is None:
            return False
        actual = process_started_at(pid)
        return actual is not None and abs(actual - started_at) > _START_TOLERANCE
    if heartbeat_at is None:
        return False
    when = time.time() if now is None else now
    return when - heartbeat_at > MISSED_BEATS * interval


def crash_message(host: str | None, pid: int | None) -> str:
    return (f"The process running this flow run (pid {pid} on {host}) is gone: it was "
            "killed or its machine stopped before the run finished. Restart it with "
            "flow.run(restart_from=...) or `asyncflow run FLOW_FILE --restart last`.")
