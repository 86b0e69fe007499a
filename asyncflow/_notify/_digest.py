"""The Slack message that stands for several transitions waiting for the same webhook.

When Slack asks the notifier to slow down (about one message per second per webhook),
alerts pile up. They go out as one digest::

    12 state changes in flow `nightly` (run `3f2a...`): 10 Failed, 2 Success
    • `load [3]` → `Failed`: `ValueError('bad row 7')`
    • ...
    …and 2 more
    Open the run in the dashboard      (with notifications.dashboard_url)

Changes that carry an error are listed first; at most ``notifications.digest_tasks``
lines are listed, and every change is counted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ._formatting import StateChange, _clip, _slack_code, _slack_escape
from ._sender import Alert
from ._settings import NotificationSettings

_DETAIL_LIMIT = 300
_SECTION_LIMIT = 2900  # Slack refuses section text over 3000 characters


def _run_phrase(runs: list[tuple[str | None, str | None]]) -> str:
    if len(runs) != 1:
        return f" in {len(runs)} flow runs"
    flow_name, run_id = runs[0]
    phrase = f" in flow {_slack_code(flow_name)}" if flow_name else ""
    return phrase + (f" (run {_slack_code(run_id)})" if run_id else "")


def _line(change: StateChange) -> str:
    name = change.name if change.map_index is None else f"{change.name} [{change.map_index}]"
    line = f"• {_slack_code(name)} → {_slack_code(change.state)}"
    if change.detail:
        line += f": {_slack_code(_clip(change.detail, _DETAIL_LIMIT))}"
    return line


def run_link(dashboard_url: str, flow_run_id: str) -> str:
    """The dashboard page of a flow run, by the engine's run id."""
    return f"{dashboard_url}/flow-runs/{quote(flow_run_id, safe='')}"


def slack_digest(changes: Sequence[StateChange], *, listed: int, dashboard_url: str) -> dict[str, Any]:
    """The Slack payload summing up ``changes``: counts by state, the first few, a link."""
    counts = Counter(change.state for change in changes)
    summary = ", ".join(f"{n} {state}" for state, n in counts.most_common())
    runs = list(dict.fromkeys((c.flow_name, c.flow_run_id) for c in changes))
    headline = f"{len(changes)} state changes{_run_phrase(runs)}: {summary}"
    ordered = sorted(changes, key=lambda change: change.exception is None)  # errors first
    lines = [_line(change) for change in ordered[:listed]]
    if len(changes) > listed:
        lines.append(f"…and {len(changes) - listed} more")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines),
                                                                   _SECTION_LIMIT)}},
    ]
    if dashboard_url:
        links = [
            f"<{run_link(dashboard_url, run_id)}|Open {_slack_escape(flow_name or 'the run')} "
            "in the dashboard>"
            for flow_name, run_id in runs
            if run_id
        ][:listed]
        if links:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]}
            )
    return {"text": headline, "blocks": blocks}


def slack_digest_body(alerts: Sequence[Alert], settings: NotificationSettings) -> bytes:
    """:func:`slack_digest` of ``alerts``, as the JSON body to post."""
    changes = [alert.change for alert in alerts if alert.change is not None]
    payload = slack_digest(
        changes, listed=settings.digest_tasks, dashboard_url=settings.dashboard_url
    )
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
