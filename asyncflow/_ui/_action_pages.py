"""The HTML of the dashboard's actions: the flows it can start, a flow's form, and the
Cancel and Restart buttons of a run page. Only served when flows are registered.

Every action is a plain HTML form posting to the dashboard with the session's CSRF token
in a hidden field; nothing here needs script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._csrf import TOKEN_FIELD
from ._forms import ParameterField
from ._pages import e, page


def _token(csrf: str) -> str:
    return f'<input type="hidden" name="{TOKEN_FIELD}" value="{e(csrf)}">'


def start_block(flows: Sequence[tuple[str, str, int]]) -> str:
    """The runs list's "Start a run" block: ``(flow name, form url, parameter count)``."""
    items = "".join(
        f'<li><a href="{e(url)}" data-flow="{e(name)}">{e(name)}</a> '
        f'<span class="muted">{count} parameter{"s" if count != 1 else ""}</span></li>'
        for name, url, count in flows
    )
    return f'<section id="start-run"><h2>Start a run</h2><ul class="flows">{items}</ul></section>'


def _field(field: ParameterField, text: str, problem: str | None) -> str:
    ident = f"param-{field.name}"
    need = ' required aria-required="true"' if field.required else ""
    attrs = f'id="{e(ident)}" name="{e(field.field_name)}"{need}'
    if field.kind == "bool":
        options = ([('', "choose")] if field.required else []) + [("true", "true"),
                                                                   ("false", "false")]
        control = (f"<select {attrs}>" + "".join(
            f'<option value="{v}"{" selected" if v == text.strip().lower() else ""}>{s}</option>'
            for v, s in options) + "</select>")
    elif field.kind == "json":
        control = f'<textarea {attrs} rows="4" spellcheck="false">{e(text)}</textarea>'
    elif field.kind == "fixed":
        control = (f'<code id="{e(ident)}">{e(text)}</code> <span class="muted">'
                   "(this default cannot be set from the dashboard; the run uses it)</span>")
    else:
        mode = {"int": ' inputmode="numeric"', "float": ' inputmode="decimal"'}.get(
            field.kind, "")
        control = f'<input type="text" {attrs} value="{e(text)}"{mode} autocomplete="off">'
    mark = ' <span class="required">required</span>' if field.required else ""
    error = (f'<p class="field-error" data-param="{e(field.name)}">{e(field.name)}: '
             f"{e(problem)}</p>" if problem else "")
    return (f'<div class="field{" invalid" if problem else ""}" data-param="{e(field.name)}">'
            f'<label for="{e(ident)}"><code>{e(field.name)}</code>{mark} '
            f'<span class="muted">{e(field.label)}</span></label>{control}{error}</div>')


def flow_form_page(
    flow_name: str,
    fields: Sequence[ParameterField],
    *,
    action: str,
    csrf: str,
    urls: Mapping[str, str],
    entered: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    message: str | None = None,
) -> str:
    """The form that starts a run of ``flow_name``; with what was ``entered`` and the
    ``problems`` found in it when a submission was refused."""
    problems = problems or {}
    rows = "".join(
        _field(f, f.initial if entered is None else entered.get(f.field_name, ""),
               problems.get(f.name))
        for f in fields
    )
    if not fields:
        rows = '<p class="muted">This flow has no parameters.</p>'
    summary = ""
    if problems or message:
        listed = "".join(f"<li>{e(name)}: {e(why)}</li>" for name, why in problems.items())
        text = e(message) if message else "Nothing was started. Fix these parameters:"
        summary = (f'<div class="form-errors" id="form-errors" role="alert"><p>{text}</p>'
                   + (f"<ul>{listed}</ul>" if listed else "") + "</div>")
    body = (
        f'<h1>Start a run of {e(flow_name)}</h1>{summary}'
        f'<form class="run-form" id="run-form" method="post" action="{e(action)}">'
        f"{_token(csrf)}{rows}"
        '<p><button type="submit" id="run-button">Run</button> '
        f'<a href="{e(urls["runs"])}">back to the runs</a></p></form>'
    )
    return page(f"Run {flow_name}", body, urls=urls)


def run_actions_block(*, csrf: str, cancel_url: str | None, restart_url: str | None,
                      cancelling: bool = False) -> str:
    """The Cancel / Restart from failure buttons of a run page ('' when neither applies);
    a run asked to cancel says so instead of offering Cancel."""
    buttons = []
    if cancelling:
        buttons.append('<span class="cancelling" id="cancelling" role="status" title="The '
                       'process running it stops it within about a second">'
                       "Cancelling\u2026</span>")
    if cancel_url is not None:
        buttons.append(
            f'<form method="post" action="{e(cancel_url)}" class="action">{_token(csrf)}'
            '<button type="submit" id="cancel-run">Cancel</button></form>'
        )
    if restart_url is not None:
        buttons.append(
            f'<form method="post" action="{e(restart_url)}" class="action">{_token(csrf)}'
            '<button type="submit" id="restart-run">Restart from failure</button></form>'
        )
    if not buttons:
        return ""
    return f'<div class="run-actions" id="run-actions">{"".join(buttons)}</div>'


def problem_page(status: int, message: str, *, urls: Mapping[str, str],
                 back: str | None = None) -> str:
    """An action that could not be done: what happened and where to go back to."""
    link = f'<p><a href="{e(back)}">back</a></p>' if back else ""
    return page(f"{status}", f'<h1>{status}</h1><p id="problem">{e(message)}</p>{link}',
                urls=urls)
