"""The dashboard's pages as HTML text, made from history records.

Every value from the database is escaped. A result shows its location, or for a
JSONResult its JSON text; no other value is ever shown (none is stored). The DAG picture
is the SVG :mod:`asyncflow.visualization` drew when the run was recorded; one that carries
anything script-like is not shown.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from .._history._records import (
    FlowRunRecord,
    TaskRunRecord,
    TransitionRecord,
    state_color,
)

#: The state names offered by the runs list's filter.
FLOW_STATES = ("Running", "Success", "Failed", "Crashed", "Cancelled", "TimedOut", "Paused",
               "Scheduled")
_UNSAFE_SVG = re.compile(r"<\s*script|<\s*foreignObject|javascript:|\son\w+\s*=", re.I)
_JSON_SHOWN = 2_000
#: Task run states whose row links to the task run's logs.
_FAILED_STATES = frozenset({"Failed", "TimedOut", "TriggerFailed", "ValidationFailed"})


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def _dark(color: str) -> bool:
    try:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return False
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 120


def badge(state: str, *, element_id: str | None = None) -> str:
    color = state_color(state)
    ident = f' id="{e(element_id)}"' if element_id else ""
    dark = " dark" if _dark(color) else ""
    return (f'<span{ident} class="state{dark}" data-state="{e(state)}" '
            f'style="background:{e(color)}">{e(state)}</span>')


def when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(delta: datetime.timedelta | None) -> str:
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.001 else "<1 ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def json_value(text: str | None, *, limit: int | None = _JSON_SHOWN) -> str:
    """A JSONResult's JSON text, pretty-printed when it parses."""
    if text is None:
        return ""
    try:
        shown = json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        shown = text
    if limit is not None and len(shown) > limit:
        shown = shown[:limit] + "\n... (open the task run for the whole value)"
    return f'<pre class="json">{e(shown)}</pre>'


def result_cell(location: str | None, json_text: str | None, *, limit: int | None) -> str:
    if json_text is not None:
        return json_value(json_text, limit=limit)
    if location is not None:
        return f"<code>{e(location)}</code>"
    return ""


def first_line(text: str | None) -> str:
    if not text:
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def safe_svg(svg: str | None) -> str | None:
    """The recorded picture if it is plain SVG (no script, handlers or embedded HTML)."""
    if not svg or _UNSAFE_SVG.search(svg):
        return None
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else None


def page(title: str, body: str, *, urls: Mapping[str, str], data: Mapping[str, str] = {}) -> str:
    attrs = "".join(f' data-{k}="{e(v)}"' for k, v in data.items())
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · asyncflow</title>
<link rel="stylesheet" href="{e(urls['css'])}">
<script src="{e(urls['js'])}" defer></script>
</head>
<body{attrs}>
<header><a href="{e(urls['runs'])}">asyncflow</a><span>run history</span></header>
<main>
{body}
</main>
</body>
</html>
"""


def _options(values: Iterable[str], selected: str | None, *, blank: str) -> str:
    out = [f'<option value="">{e(blank)}</option>']
    for value in values:
        chosen = " selected" if value == selected else ""
        out.append(f'<option value="{e(value)}"{chosen}>{e(value)}</option>')
    return "".join(out)


def pager(page_no: int, pages: int, link: Any) -> str:
    if pages <= 1:
        return ""
    prev = f'<a href="{e(link(page_no - 1))}">&larr; newer</a>' if page_no > 1 else ""
    nxt = f'<a href="{e(link(page_no + 1))}">older &rarr;</a>' if page_no < pages else ""
    return f'<div class="pager">{prev}<span class="muted">page {page_no} of {pages}</span>{nxt}</div>'


def runs_page(
    runs: Sequence[FlowRunRecord],
    *,
    total: int,
    flows: Sequence[str],
    filters: Mapping[str, str],
    page_no: int,
    pages: int,
    run_url: Any,
    page_url: Any,
    urls: Mapping[str, str],
    actions: str = "",
) -> str:
    rows = []
    for run in runs:
        rows.append(
            f'<tr data-run="{run.id}">'
            f'<td><a href="{e(run_url(run.id))}">#{run.id}</a></td>'
            f"<td>{e(run.flow_name)}</td>"
            f"<td>{badge(run.state)}</td>"
            f'<td class="time">{e(when(run.started_at))}</td>'
            f'<td class="num">{e(duration(run.duration))}</td>'
            f'<td class="num">{run.task_count}</td>'
            f"<td>{e(run.message)}</td></tr>"
        )
    table = (
        '<table id="runs"><thead><tr><th>Run</th><th>Flow</th><th>State</th><th>Started</th>'
        "<th>Duration</th><th>Tasks</th><th>Message</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows else '<p class="muted" id="no-runs">No recorded runs match.</p>'
    )
    form = (
        f'<form class="filters" method="get" action="{e(urls["runs"])}">'
        f'<label>Flow<select name="flow">'
        f'{_options(flows, filters.get("flow"), blank="any flow")}</select></label>'
        f'<label>State<select name="state">'
        f'{_options(FLOW_STATES, filters.get("state"), blank="any state")}</select></label>'
        f'<label>Started from<input type="date" name="since" value="{e(filters.get("since"))}">'
        f"</label>"
        f'<label>until<input type="date" name="until" value="{e(filters.get("until"))}">'
        f"</label>"
        '<button type="submit">Filter</button></form>'
    )
    body = (f"<h1>Flow runs</h1><p class=\"muted\">{total} run{'s' if total != 1 else ''}</p>"
            f"{actions}{form}{table}{pager(page_no, pages, page_url)}")
    return page("Flow runs", body, urls=urls)


def run_page(
    run: FlowRunRecord,
    *,
    task_runs: Sequence[TaskRunRecord],
    counts: Mapping[str, int],
    flow_transitions: Sequence[TransitionRecord],
    svg: str | None,
    total_task_runs: int,
    state_filter: str | None,
    page_no: int,
    pages: int,
    page_url: Any,
    task_url: Any,
    filter_url: Any,
    live_url: str | None,
    draw_note: str,
    urls: Mapping[str, str],
    actions: str = "",
    restarted_by: Sequence[int] = (),
    run_url: Any = None,
) -> str:
    params = json.dumps(run.parameters, indent=2, sort_keys=True) if run.parameters else ""
    meta = (
        '<dl class="meta">'
        f"<dt>State</dt><dd>{badge(run.state, element_id='run-state')} "
        f'<span id="live-status" class="live" hidden>live</span></dd>'
        f"<dt>Message</dt><dd>{e(run.message)}</dd>"
        f"<dt>Started</dt><dd>{e(when(run.started_at))}</dd>"
        f"<dt>Ended</dt><dd>{e(when(run.ended_at))}</dd>"
        f"<dt>Duration</dt><dd>{e(duration(run.duration))}</dd>"
        f"<dt>Flow run id</dt><dd><code>{e(run.flow_run_id)}</code></dd>"
        + (f"<dt>Parameters</dt><dd><pre class=\"json\">{e(params)}</pre></dd>" if params else "")
        + (restart_links(run, restarted_by, run_url) if run_url is not None else "")
        + "</dl>"
    )
    chips = "".join(
        f'<a href="{e(filter_url(name))}">{badge(name)}</a> <span class="muted">{n}</span>'
        for name, n in counts.items()
    )
    picture = safe_svg(svg)
    dag = (f'<div class="dag" id="dag">{picture}</div>' if picture
           else f'<p class="muted" id="no-dag">{e(draw_note)}</p>')
    rows = []
    for tr in task_runs:
        key = f"{tr.task}:{-1 if tr.map_index is None else tr.map_index}"
        error = first_line(tr.error) if tr.error and not tr.succeeded else ""
        # A failure's message repeats its exception: show the exception's own line only.
        message = "" if error and tr.state == "Failed" else e(tr.message)
        if error:
            message += f'<pre class="error">{e(error)}</pre>'
        logs_link = (f' <a class="logs-link" href="{e(task_url(tr))}#logs-title">logs</a>'
                     if tr.state in _FAILED_STATES else "")

        rows.append(
            f'<tr data-key="{key}">'
            f'<td data-col="task"><a href="{e(task_url(tr))}">{e(tr.full_name)}</a>'
            f"{logs_link}</td>"
            f'<td data-col="state">{badge(tr.state)}</td>'
            f'<td data-col="started" class="time">{e(when(tr.started_at))}</td>'
            f'<td data-col="duration" class="num">{e(duration(tr.duration))}</td>'
            f'<td data-col="retries" class="num">{tr.retries or ""}</td>'
            f'<td data-col="result">'
            f"{result_cell(tr.result_location, tr.result_json, limit=_JSON_SHOWN)}</td>"
            f'<td data-col="message">{message}</td></tr>'
        )
    append = "true" if state_filter is None and page_no == pages else "false"
    table = (
        f'<table id="task-runs" data-append="{append}"><thead><tr><th>Task</th><th>State</th>'
        "<th>Started</th><th>Duration</th><th>Retries</th><th>Result</th><th>Message</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    shown = f"{total_task_runs} task run{'s' if total_task_runs != 1 else ''}"
    if state_filter:
        shown += f' in state {badge(state_filter)} <a href="{e(filter_url(None))}">show all</a>'
    timeline = _timeline(flow_transitions, start=run.started_at)
    body = (
        f'<h1>{e(run.flow_name)} <span class="muted">run #{run.id}</span></h1>{meta}'
        f"{actions}"
        f'<h2>Graph</h2>{dag}<div class="counts">{chips}</div>'
        f"<h2>Task runs</h2><p class=\"muted\">{shown}</p>{table}"
        f"{pager(page_no, pages, page_url)}"
        f"<h2>Flow run transitions</h2>{timeline}"
    )
    data = {"live": live_url} if live_url else {}
    return page(f"{run.flow_name} #{run.id}", body, urls=urls, data=data)


def restart_links(run: FlowRunRecord, restarted_by: Sequence[int], run_url: Any) -> str:
    """The runs a run restarted and was restarted by, and how to restart a failed one."""
    out = ""
    if run.restart_of is not None:
        out += (f'<dt>Restart of</dt><dd><a id="restart-of" href="{e(run_url(run.restart_of))}">'
                f"run #{run.restart_of}</a></dd>")
    if restarted_by:
        links = ", ".join(f'<a href="{e(run_url(n))}">run #{n}</a>' for n in restarted_by)
        out += f'<dt>Restarted by</dt><dd id="restarted-by">{links}</dd>'
    elif run.state in ("Failed", "Crashed", "TimedOut", "TriggerFailed"):
        out += ('<dt>Restart</dt><dd id="restart-hint"><code>asyncflow run FLOW_FILE '
                f"--restart {run.id}</code></dd>")
    return out


def _timeline(transitions: Sequence[TransitionRecord], *, start: datetime.datetime) -> str:
    rows = []
    for t in transitions:
        offset = (t.at - start).total_seconds()
        extra = result_cell(t.result_location, t.result_json, limit=None)
        if t.error:
            extra += f'<pre class="error">{e(t.error)}</pre>'
        rows.append(
            f'<tr><td class="time">{e(when(t.at))}</td><td class="num">+{offset:.3f} s</td>'
            f"<td>{badge(t.old_state) if t.old_state else ''} &rarr; {badge(t.new_state)}</td>"
            f"<td>{e(t.message)}</td><td class=\"num\">{t.run_count or ''}</td>"
            f"<td>{extra}</td></tr>"
        )
    return (
        '<table class="timeline"><thead><tr><th>Time</th><th>Since start</th>'
        "<th>Transition</th><th>Message</th><th>Run count</th><th>Result / error</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def task_run_page(
    run: FlowRunRecord,
    task_run: TaskRunRecord,
    *,
    run_url: str,
    live_url: str | None,
    urls: Mapping[str, str],
    logs: str = "",
) -> str:
    key = f"{task_run.task}:{-1 if task_run.map_index is None else task_run.map_index}"
    result = result_cell(task_run.result_location, task_run.result_json, limit=None)
    meta = (
        '<dl class="meta">'
        f"<dt>Flow run</dt><dd><a href=\"{e(run_url)}\">{e(run.flow_name)} #{run.id}</a></dd>"
        f"<dt>State</dt><dd>{badge(task_run.state, element_id='task-state')}</dd>"
        f"<dt>Message</dt><dd>{e(task_run.message)}</dd>"
        f"<dt>Task</dt><dd>{e(task_run.task_name)} <span class=\"muted\">"
        f"(slug <code>{e(task_run.task_slug)}</code>)</span></dd>"
        + (f"<dt>Map index</dt><dd>{task_run.map_index}</dd>"
           if task_run.map_index is not None else "")
        + (f"<dt>Task run id</dt><dd><code>{e(task_run.task_run_id)}</code></dd>"
           if task_run.task_run_id else "")
        + f"<dt>Started</dt><dd>{e(when(task_run.started_at))}</dd>"
        f"<dt>Duration</dt><dd>{e(duration(task_run.duration))}</dd>"
        f"<dt>Retries</dt><dd>{task_run.retries}</dd>"
        + (f"<dt>Result</dt><dd>{result}</dd>" if result else "")
        + (f'<dt>Error</dt><dd><pre class="error">{e(task_run.error)}</pre></dd>'
           if task_run.error else "")
        + "</dl>"
    )
    body = (
        f'<h1>{e(task_run.full_name)} <span class="muted">in {e(run.flow_name)} '
        f"#{run.id}</span></h1>{meta}{logs}<h2>Transitions</h2>"
        f"{_timeline(task_run.transitions, start=run.started_at)}"
    )
    data = {"task-key": key}
    if live_url:
        data["live"] = live_url
    return page(task_run.full_name, body, urls=urls, data=data)


def error_page(status: int, message: str, *, urls: Mapping[str, str]) -> str:
    return page(f"{status}", f"<h1>{status}</h1><p>{e(message)}</p>", urls=urls)
