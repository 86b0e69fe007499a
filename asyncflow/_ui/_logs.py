"""The logs of a task run on its dashboard page: a table filtered by level, paged, and
streamed live while the run goes on.

::

    GET /runs/{run}/tasks/{task}[/{index}]?level=WARNING&logs_after=ID
        the task run page; its "Logs" section shows the lines at ``level`` or above,
        :data:`LINES_PER_PAGE` at a time from after the line ``logs_after``
    GET /runs/{run}/tasks/{task}[/{index}]/logs?after=ID&level=WARNING
        server-sent events: each new line as a ``log`` event, then ``end`` once the run
        is recorded to its end and every line has been sent

The stream polls the database as the run's events stream does. Messages were redacted
before they were stored, and are escaped here (the script sets them as text).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from aiohttp import web

from .._history._logs import LogRecord, last_log_id, level_number, read_logs
from .._history._schema import MAX_ID
from .._history._store import HistoryStore
from ._inputs import QueryValueError, query_int, query_text
from ._sse import poll_events

LINES_PER_PAGE = 500
#: Lines one poll of the stream sends at most.
_LINES_PER_POLL = 500
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_CLASS = {"WARNING": "warning", "ERROR": "error", "CRITICAL": "error"}


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def query_level(query: Mapping[str, str]) -> str | None:
    """The ``level`` query parameter as a level name, None when absent."""
    text = query_text(query, "level").upper()
    if not text:
        return None
    if text not in LEVELS:
        raise QueryValueError(f"level must be one of {', '.join(LEVELS)}, not {text[:40]!r}")
    return text


def _row(line: LogRecord) -> str:
    css = _LEVEL_CLASS.get(line.level, "")
    return (
        f'<tr data-log="{line.id}" class="{css}"><td class="time">'
        f'{e(line.at.strftime("%H:%M:%S.%f")[:-3])}</td>'
        f'<td data-col="level">{e(line.level)}</td>'
        f'<td data-col="message"><pre>{e(line.message)}</pre></td></tr>'
    )


def logs_section(
    lines: Sequence[LogRecord],
    *,
    level: str | None,
    page_url: Callable[[str | None, int | None], str],
    live_url: str | None,
    more: bool,
) -> str:
    """The "Logs" section of a task run page."""
    options = ['<option value="">all levels</option>'] + [
        f'<option value="{name}"{" selected" if name == level else ""}>{name} and above'
        "</option>" for name in LEVELS
    ]
    form = (
        f'<form class="filters" id="log-filter" method="get" action="{e(page_url(None, None))}">'
        f'<label>Level<select name="level">{"".join(options)}</select></label>'
        '<button type="submit">Filter</button></form>'
    )
    live = f' data-live="{e(live_url)}"' if live_url else ""
    empty = "" if lines else (
        '<p class="muted" id="no-logs">No lines'
        + (f" at {e(level)} or above" if level else "")
        + " were recorded for this task run.</p>"
    )
    table = (
        f'<table id="logs" class="logs"{live}><thead><tr><th>Time (UTC)</th><th>Level</th>'
        f"<th>Message</th></tr></thead><tbody>{''.join(_row(x) for x in lines)}</tbody></table>"
    )
    nxt = (f'<div class="pager"><a id="logs-next" href="{e(page_url(level, lines[-1].id))}">'
           f"next {LINES_PER_PAGE} lines &rarr;</a></div>" if more and lines else "")
    return f'<h2 id="logs-title">Logs</h2>{form}{empty}{table}{nxt}'


async def task_run_logs(
    request: web.Request,
    store: HistoryStore,
    run: int,
    task: int,
    map_index: int | None,
    *,
    finished: bool,
    page_url: Callable[[str | None, int | None], str],
    stream_url: Callable[[int, str | None], str],
) -> str:
    """The logs section for a task run page request (see the module's doc)."""
    level = query_level(request.query)
    after = query_int(request.query, "logs_after", default=0, minimum=0, maximum=MAX_ID)
    # Read the last id before the lines: what is written after it, the stream sends.
    last = await last_log_id(store, run, task, map_index) if not finished else 0
    lines = await read_logs(store, run, task, map_index, level=level, after=after,
                            limit=LINES_PER_PAGE + 1)
    more = len(lines) > LINES_PER_PAGE
    lines = lines[:LINES_PER_PAGE]
    live = None
    if not finished and not more:
        live = stream_url(max(last, lines[-1].id if lines else 0, after), level)
    return logs_section(lines, level=level, page_url=page_url, live_url=live, more=more)


async def stream_logs(
    request: web.Request,
    store: HistoryStore,
    run: int,
    task: int,
    map_index: int | None,
    *,
    stopping: asyncio.Event,
    interval: float,
) -> web.StreamResponse:
    """A task run's new lines as server-sent events (see the module's doc)."""
    header = request.headers.get("Last-Event-ID", "").strip()
    after = query_int({"after": header} if header else request.query, "after", default=0,
                      minimum=0, maximum=MAX_ID)
    level = query_level(request.query)
    minimum = level_number(level)
    return await poll_events(
        request, after=after, page=_LINES_PER_POLL,
        read=lambda since: read_logs(store, run, task, map_index, level=minimum, after=since,
                                     limit=_LINES_PER_POLL),
        finished=lambda: store.is_finished(run), event=_event, item_id=lambda line: line.id,
        stopping=stopping, interval=interval,
    )


def _event(line: LogRecord) -> bytes:
    data: dict[str, Any] = {"id": line.id, "level": line.level,
                            "time": line.at.strftime("%H:%M:%S.%f")[:-3],
                            "message": line.message,
                            "css": _LEVEL_CLASS.get(line.level, "")}
    return f"id: {line.id}\nevent: log\ndata: {json.dumps(data)}\n\n".encode()


LOGS_CSS = """
table.logs td { padding: 2px 10px; }
table.logs tr.warning td { background: #fff8e1; }
table.logs tr.error td { background: #fdecea; }
table.logs pre { font-size: 12px; }
a.logs-link { font-size: 12px; margin-left: 6px; }
"""

LOGS_JS = """
(function () {
  var table = document.getElementById("logs");
  var url = table && table.getAttribute("data-live");
  if (!url || !window.EventSource) { return; }
  var body = table.querySelector("tbody");
  var source = new EventSource(url);
  function td(text, col) {
    var cell = document.createElement("td");
    if (col) { cell.setAttribute("data-col", col); }
    cell.textContent = text;
    return cell;
  }
  source.addEventListener("log", function (e) {
    var line = JSON.parse(e.data);
    var row = document.createElement("tr");
    row.setAttribute("data-log", String(line.id));
    if (line.css) { row.className = line.css; }
    var time = td(line.time);
    time.className = "time";
    row.appendChild(time);
    row.appendChild(td(line.level, "level"));
    var message = td("", "message");
    var pre = document.createElement("pre");
    pre.textContent = line.message;
    message.appendChild(pre);
    row.appendChild(message);
    body.appendChild(row);
    var none = document.getElementById("no-logs");
    if (none) { none.hidden = true; }
  });
  source.addEventListener("end", function () { source.close(); });
})();
"""
