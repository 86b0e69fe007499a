"""Turning a state change into a message: Slack payloads, webhook payloads, emails.

Every formatter reads the same facts through :func:`describe`: the object's name and
kind, the flow name and run id, the task run id, map index, run count, and for
``Retrying`` the time of the next attempt.
"""

from __future__ import annotations

import datetime
import html
import time
from dataclasses import dataclass
from typing import Any

from .._core._context import context, current_task_run
from .._core._flow import Flow
from .._core._states import Retrying, State

AUTHOR = "asyncflow"
FOOTER = "asyncflow notification"

_FIELD_LIMIT = 1900  # Slack truncates long fields; keep room for the code fence


@dataclass(frozen=True)
class StateChange:
    """What a notification says about one transition."""

    object_type: str
    name: str
    state: str
    message: str | None
    exception: str | None
    flow_name: str | None
    flow_run_id: str | None
    task_name: str | None
    task_run_id: str | None
    map_index: int | None
    run_count: int | None
    next_attempt: datetime.datetime | None

    @property
    def headline(self) -> str:
        """``name is now in a Failed state``, as plain text."""
        return f"{self.name} is now in a {self.state} state"

    @property
    def detail(self) -> str | None:
        """The exception's repr when the state carries one, else the state's message."""
        return self.exception if self.exception is not None else self.message


def describe(obj: Any, state: State) -> StateChange:
    """Gather what a notification about ``obj`` entering ``state`` should say."""
    is_flow = isinstance(obj, Flow)
    name = str(getattr(obj, "name", None) or obj)
    result = state.result
    exception = repr(result) if isinstance(result, BaseException) else None
    task_run = None if is_flow else current_task_run()
    run_count = state.run_count or (task_run.run_count if task_run is not None else 0)
    map_index = state.map_index
    if map_index is None and task_run is not None:
        map_index = task_run.map_index
    next_attempt = state.start_time if isinstance(state, Retrying) else None
    flow_name = context.get("flow_name")
    return StateChange(
        object_type="flow" if is_flow else "task",
        name=name,
        state=state.name,
        message=state.message,
        exception=exception,
        flow_name=str(flow_name) if flow_name is not None else (name if is_flow else None),
        flow_run_id=_text_or_none(context.get("flow_run_id")),
        task_name=None if is_flow else name,
        task_run_id=task_run.task_run_id if task_run is not None else None,
        map_index=map_index,
        run_count=run_count or None,
        next_attempt=next_attempt,
    )


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _clip(text: str, limit: int = _FIELD_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- Slack ----------------------------------------------------------------------------
def _slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_code(text: str) -> str:
    return "`" + _slack_escape(text.replace("`", "'")) + "`"


def slack_message_formatter(obj: Any, state: State) -> dict[str, Any]:
    """The Slack payload for ``obj`` (a task or flow) entering ``state``.

    Block Kit ``blocks`` with a ``text`` fallback for notifications, plus the classic
    attachment Prefect users know: the state's colour, its name as title, the text
    "`name` is now in a `State` state", a Message field (the exception's repr in a code
    block, or the state's message), the flow name, flow run id, task run id, map index,
    run count and, for ``Retrying``, the time of the next attempt.
    """
    change = describe(obj, state)
    headline = f"{_slack_code(change.name)} is now in a {_slack_code(change.state)} state"
    fields: list[dict[str, Any]] = []
    if change.exception is not None:
        fence = change.exception.replace("```", "'''")
        value = f"```{_slack_escape(_clip(fence))}```"
        fields.append({"title": "Message", "value": value, "short": False})
    elif change.message:
        fields.append(
            {"title": "Message", "value": _slack_escape(_clip(change.message)), "short": False}
        )
    facts: list[tuple[str, Any]] = [
        ("Flow", change.flow_name if change.object_type == "task" else None),
        ("Flow run id", change.flow_run_id),
        ("Task run id", change.task_run_id),
        ("Map index", change.map_index),
        ("Run count", change.run_count),
        ("Next attempt", _iso(change.next_attempt)),
    ]
    for title, value in facts:
        if value is not None:
            fields.append({"title": title, "value": _slack_escape(str(value)), "short": True})
    where = [("Flow", change.flow_name), ("Flow run", change.flow_run_id)]
    context_line = " · ".join(
        f"{title} {_slack_code(value)}" for title, value in where if value is not None
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
    ]
    if context_line:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context_line}]})
    return {
        "text": headline,
        "blocks": blocks,
        "attachments": [
            {
                "fallback": f"State change notification: {_slack_escape(change.headline)}",
                "color": state.color,
                "author_name": AUTHOR,
                "title": change.state,
                "text": headline,
                "fields": fields,
                "footer": FOOTER,
                "ts": int(time.time()),
                "mrkdwn_in": ["text", "fields"],
            }
        ],
    }


# ---- generic webhooks -------------------------------------------------------------------
def webhook_payload(obj: Any, old_state: State, new_state: State) -> dict[str, Any]:
    """The JSON body :func:`~asyncflow.notifications.webhook_notifier` posts by default.

    Keys: ``event`` (always ``"state_change"``), ``object_type`` (``"task"`` or
    ``"flow"``), ``object_name``, ``old_state`` and ``new_state`` (class names),
    ``message`` (the exception's repr when the state carries one, else the state's
    message), ``flow_name``, ``flow_run_id``, ``task_name``, ``task_run_id``,
    ``map_index``, ``run_count``, ``next_attempt_at`` (ISO 8601, for ``Retrying``),
    ``color`` (the state's colour) and ``timestamp`` (ISO 8601, UTC). Missing facts are
    ``null``.
    """
    change = describe(obj, new_state)
    return {
        "event": "state_change",
        "object_type": change.object_type,
        "object_name": change.name,
        "old_state": old_state.name,
        "new_state": change.state,
        "message": change.detail,
        "flow_name": change.flow_name,
        "flow_run_id": change.flow_run_id,
        "task_name": change.task_name,
        "task_run_id": change.task_run_id,
        "map_index": change.map_index,
        "run_count": change.run_count,
        "next_attempt_at": _iso(change.next_attempt),
        "color": new_state.color,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }


# ---- email ---------------------------------------------------------------------------
def email_content(obj: Any, state: State) -> dict[str, str]:
    """The default email: ``{"subject": ..., "text": ..., "html": ...}``."""
    change = describe(obj, state)
    rows: list[tuple[str, Any]] = [
        ("Message", change.detail),
        ("Flow", change.flow_name),
        ("Flow run id", change.flow_run_id),
        ("Task run id", change.task_run_id),
        ("Map index", change.map_index),
        ("Run count", change.run_count),
        ("Next attempt", _iso(change.next_attempt)),
    ]
    present = [(title, str(value)) for title, value in rows if value is not None]
    text = "\n".join([change.headline, "", *(f"{t}: {v}" for t, v in present), "", FOOTER])
    cells = "".join(
        f"<tr><th align='left'>{html.escape(t)}</th><td><code>{html.escape(v)}</code></td></tr>"
        for t, v in present
    )
    body = (
        "<html><body>"
        f"<p style='border-left: 6px solid {html.escape(state.color)}; padding-left: 8px'>"
        f"<b>{html.escape(change.name)}</b> is now in a <b>{html.escape(change.state)}</b> "
        f"state</p><table>{cells}</table><p><small>{FOOTER}</small></p>"
        "</body></html>"
    )
    return {
        "subject": f"[{AUTHOR}] {change.object_type} {change.name}: {change.state}",
        "text": text,
        "html": body,
    }
