"""The dashboard's stylesheet and script, served from the app (no CDN, no inline script)."""

from __future__ import annotations

CSS = """
:root { --fg: #1a202c; --muted: #5a6678; --line: #dde3ea; --bg: #f7f9fb; --link: #2457c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial,
       sans-serif; color: var(--fg); background: var(--bg); }
header { background: #1f2a3a; color: #fff; padding: 10px 24px; display: flex; gap: 18px;
         align-items: baseline; }
header a { color: #fff; text-decoration: none; font-weight: 600; font-size: 16px; }
header span { color: #b8c4d4; font-size: 12px; }
main { padding: 18px 24px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 15px; margin: 26px 0 8px; }
a { color: var(--link); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { background: #eef2f6; font-weight: 600; font-size: 12px; color: var(--muted);
     text-transform: uppercase; letter-spacing: .03em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; color: #1a202c; border: 1px solid rgba(0,0,0,.12); white-space: nowrap; }
.state.dark { color: #fff; }
.muted { color: var(--muted); }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 10px 0; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 12px;
      font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.json { background: #f2f6fa; padding: 4px 6px; border-radius: 4px; max-height: 16em;
           overflow: auto; }
pre.error { color: #8a1c1c; max-height: 24em; overflow: auto; }
code { font-size: 12px; word-break: break-all; }
.dag { background: #fff; border: 1px solid var(--line); padding: 8px; overflow: auto;
       max-height: 70vh; }
.dag svg { max-width: 100%; height: auto; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin: 10px 0 14px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
form.filters select, form.filters input { font: inherit; padding: 3px 6px; }
.pager { margin: 12px 0; display: flex; gap: 14px; align-items: center; }
.counts { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
.live { font-size: 12px; color: #1d7a3a; }
.live::before { content: "\\25CF "; }
"""

JS = """
"use strict";
(function () {
  var body = document.body;
  var url = body.getAttribute("data-live");
  if (!url || !window.EventSource) { return; }
  var taskKey = body.getAttribute("data-task-key");
  var table = document.getElementById("task-runs");
  var canAdd = table && table.getAttribute("data-append") === "true";
  var source = new EventSource(url);

  function dark(color) {
    var r = parseInt(color.substr(1, 2), 16), g = parseInt(color.substr(3, 2), 16),
        b = parseInt(color.substr(5, 2), 16);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) < 120;
  }
  function setBadge(el, state, color) {
    if (!el) { return; }
    el.textContent = state;
    el.style.background = color;
    el.className = dark(color) ? "state dark" : "state";
    el.setAttribute("data-state", state);
  }
  function cell(row, name) { return row.querySelector("[data-col='" + name + "']"); }
  function addRow(t) {
    var row = document.createElement("tr");
    row.setAttribute("data-key", t.key);
    ["task", "state", "started", "duration", "retries", "result", "message"].forEach(
      function (name) {
        var td = document.createElement("td");
        td.setAttribute("data-col", name);
        row.appendChild(td);
      });
    var link = document.createElement("a");
    link.href = t.href;
    link.textContent = t.name;
    cell(row, "task").appendChild(link);
    var badge = document.createElement("span");
    cell(row, "state").appendChild(badge);
    table.querySelector("tbody").appendChild(row);
    return row;
  }
  function apply(t) {
    if (t.key === "flow") {
      setBadge(document.getElementById("run-state"), t.state, t.color);
      return;
    }
    if (taskKey !== null) {
      if (taskKey === t.key) { window.location.reload(); }
      return;
    }
    if (t.map_index === null) {
      var nodes = document.querySelectorAll(".dag g.node");
      for (var i = 0; i < nodes.length; i++) {
        if (nodes[i].getAttribute("data-slug") === t.slug) {
          var box = nodes[i].querySelector("rect.box");
          if (box) { box.setAttribute("fill", t.color); }
          nodes[i].setAttribute("data-state", t.state);
        }
      }
    }
    if (!table) { return; }
    var row = table.querySelector("tr[data-key='" + t.key + "']");
    if (!row) {
      if (!canAdd) { return; }
      row = addRow(t);
    }
    setBadge(cell(row, "state").querySelector("span"), t.state, t.color);
    cell(row, "message").textContent = t.message || "";
    cell(row, "retries").textContent = t.run_count > 1 ? String(t.run_count - 1) : "";
  }
  source.addEventListener("transition", function (e) { apply(JSON.parse(e.data)); });
  source.addEventListener("end", function () {
    source.close();
    window.location.reload();
  });
  var status = document.getElementById("live-status");
  if (status) { status.hidden = false; }
})();
"""

#: The styles of the actions (start, cancel, restart runs), served after :data:`CSS`.
ACTIONS_CSS = """
#start-run ul.flows { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 18px; }
form.run-form { background: #fff; border: 1px solid var(--line); padding: 12px 16px;
                max-width: 720px; }
form.run-form .field { margin: 0 0 12px; display: flex; flex-direction: column; gap: 3px; }
form.run-form input, form.run-form select, form.run-form textarea { font: inherit;
       padding: 4px 6px; max-width: 100%; }
form.run-form textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       font-size: 12px; }
.field.invalid input, .field.invalid select, .field.invalid textarea { border: 2px solid #b42318; }
.field-error, .form-errors { color: #8a1c1c; margin: 0; }
.form-errors { background: #fdecea; border: 1px solid #f5c2bd; padding: 6px 12px; margin: 8px 0; }
.required { color: #8a1c1c; font-size: 11px; text-transform: uppercase; }
.run-actions { display: flex; gap: 10px; margin: 8px 0 4px; }
form.action { margin: 0; }
.cancelling { color: #8a5a00; font-weight: 600; align-self: center; }
button { font: inherit; padding: 4px 12px; cursor: pointer; }
"""
