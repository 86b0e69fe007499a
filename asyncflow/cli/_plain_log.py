"""The progress display for pipes and log files: one line per notable transition.

::

    [  0.00s] flow 'etl': Running
    [  0.01s] fetch: mapped over 100 children
    [  0.20s] fetch[3]: Retrying (Retrying task run (attempt 2 of 3) after: ...)
    [  0.21s] fetch[3]: INFO fetching page 3          (what the task logged, see ._task_logs)
    [  0.50s] fetch: 100/100 children finished (99 Success, 1 Failed)
    [  0.52s] flow 'etl': Failed (Some reference tasks failed.) after 0.52s
"""

from __future__ import annotations

import threading
from typing import TextIO

from ._tracking import Event

_MAX_MESSAGE = 300


def one_line(message: str | None) -> str:
    """A state message shortened to one line of bounded length."""
    if not message:
        return ""
    text = " ".join(message.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def describe(event: Event) -> str:
    """The text of one log line, without the time stamp."""
    state = event.state
    message = one_line(state.message)
    plain = type(state).__name__ in ("Success", "Running")  # their messages say nothing new
    detail = f" ({message})" if message and not plain else ""
    if event.kind == "flow":
        line = f"{event.who}: {state.name}{detail}"
        if state.is_finished():
            line += f" after {event.elapsed:.2f}s"
        return line
    if event.kind == "mapped":
        total = event.progress.total if event.progress is not None else 0
        return f"{event.who}: mapped over {total} children"
    if event.kind == "map_done":
        progress = event.progress
        assert progress is not None
        counts = ", ".join(f"{n} {name}" for name, n in sorted(progress.states.items()))
        return (f"{event.who}: {progress.finished}/{progress.total} children finished"
                + (f" ({counts})" if counts else ""))
    if event.kind == "retry":  # the engine's message says which attempt comes next
        return f"{event.who}: {message or 'Retrying'}"
    return f"{event.who}: {state.name}{detail}"


class PlainLog:
    """A listener that writes one line per event to ``stream``, flushed at once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream: TextIO | None = stream
        self._lock = threading.Lock()  # task logs may come from worker threads

    def __call__(self, event: Event) -> None:
        self.write_line(event.elapsed, describe(event))

    def write_line(self, elapsed: float, text: str) -> None:
        """One line (more lines of ``text`` are indented under it), flushed at once."""
        if self.stream is None:
            return
        line = f"[{elapsed:7.2f}s] " + text.replace("\n", "\n" + " " * 11)
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except OSError:  # e.g. `asyncflow run ... | head`: the reader went away
                self.stream = None  # keep running the flow, stop logging
