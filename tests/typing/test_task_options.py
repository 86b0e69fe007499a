"""``TaskOptions``, which types the keywords of ``@task(...)``, lists exactly the options
``Task`` takes, with the same types."""

from __future__ import annotations

import inspect
from typing import Any

from asyncflow import Task
from asyncflow._core._task import TaskOptions


def _text(annotation: Any) -> str:
    return str(getattr(annotation, "__forward_arg__", annotation))


def test_task_options_match_the_options_of_task() -> None:
    parameters = list(inspect.signature(Task.__init__).parameters.values())[1:]
    options = {p.name: _text(p.annotation) for p in parameters}
    assert {name: _text(a) for name, a in TaskOptions.__annotations__.items()} == options
