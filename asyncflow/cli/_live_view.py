"""The live progress view in a terminal, drawn with rich.

Rich redraws the view from its own refresh thread a few times a second; the observer
callbacks on the event loop only update counters, so the loop never waits for the
terminal. Retries and failures are printed above the view as they happen (up to a limit,
so that a map of thousands of failing children does not flood the terminal).

This module imports rich at import time; :mod:`asyncflow.cli._run` imports it only when a
live view is wanted and rich is installed.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .._core._states import ALL_STATES
from ._plain_log import describe
from ._tracking import Event, MapProgress, RunTracker

_COLORS = {cls.__name__: cls.color for cls in ALL_STATES}
_ORDER = [
    "Pending", "Scheduled", "Paused", "Resume", "Retrying", "Running", "Success", "Cached",
    "Mapped", "Skipped", "Looped", "Failed", "TimedOut", "TriggerFailed", "Cancelled",
]
_MAX_PRINTED = 30  # retry and failure lines printed above the view, each
_MAX_BARS = 12
_REFRESH_PER_SECOND = 4


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes):02d}:{secs:04.1f}"


class LiveView:
    """A rich Live display of a :class:`RunTracker`, and the tracker's listener."""

    def __init__(self, tracker: RunTracker, console: Console) -> None:
        self.tracker = tracker
        self.console = console
        self._printed = {"retry": 0, "failed": 0}
        self._live = Live(
            get_renderable=self.render,
            console=console,
            refresh_per_second=_REFRESH_PER_SECOND,
            transient=False,
        )

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.stop()  # draws the final frame

    def __call__(self, event: Event) -> None:
        if event.kind not in self._printed:
            return
        shown = self._printed[event.kind]
        self._printed[event.kind] = shown + 1
        if shown < _MAX_PRINTED:
            mark, style = ("↻", "yellow") if event.kind == "retry" else ("✗", "bold red")
            self.console.print(Text(f"{mark} {describe(event)}", style=style))
        elif shown == _MAX_PRINTED:
            what = "retries" if event.kind == "retry" else "failures"
            self.console.print(Text(
                f"… further {what} are counted below but not printed; "
                "use --json for every task's final state", style="dim",
            ))

    # ---- drawing (called from rich's refresh thread) -------------------------------------
    def render(self) -> RenderableType:
        snap = self.tracker.snapshot()
        flow_state = snap.flow_state
        state_name = flow_state.name if flow_state is not None else "Starting"
        header = Text.assemble(
            ("flow ", "bold"),
            (repr(self.tracker.flow.name), "bold cyan"),
            "  ",
            (state_name, _style(state_name)),
            "  ",
            (format_elapsed(snap.elapsed), "dim"),
        )
        counts = Text()
        for name in [*_ORDER, *sorted(set(snap.counts) - set(_ORDER))]:
            n = snap.counts.get(name)
            if n:
                counts.append("● ", style=_style(name))
                counts.append(f"{name} {n}   ")
        if snap.not_started:
            counts.append(f"○ not started {snap.not_started}", style="dim")
        parts: list[RenderableType] = [header, counts]
        if snap.maps:
            parts.append(_bars(snap.maps))
        if snap.retries or snap.failures:
            parts.append(Text.assemble(
                ("retries ", "dim"), (str(snap.retries), "yellow"),
                ("   failures ", "dim"), (str(snap.failures), "red" if snap.failures else ""),
            ))
        return Group(*parts)


def _bars(maps: list[MapProgress]) -> RenderableType:
    """One progress bar per mapped task; unfinished maps first when there are many."""
    shown = maps
    if len(maps) > _MAX_BARS:
        unfinished = [m for m in maps if m.finished < m.total]
        done = [m for m in maps if m.finished >= m.total]
        shown = (unfinished + done)[:_MAX_BARS]
    table = Table.grid(padding=(0, 2))
    for progress in shown:
        name = progress.task.slug or progress.task.name
        failed = progress.failed
        table.add_row(
            Text(name, style="bold"),
            ProgressBar(total=max(progress.total, 1),
                        completed=progress.finished if progress.total else 1, width=32),
            Text(f"{progress.finished}/{progress.total}"),
            Text(f"{failed} failed", style="red") if failed else Text(""),
        )
    if len(maps) > len(shown):
        table.add_row(Text(f"… and {len(maps) - len(shown)} more mapped tasks", style="dim"))
    return table


def _style(state_name: str) -> str:
    color = _COLORS.get(state_name)
    return f"bold {color}" if color else "bold"
