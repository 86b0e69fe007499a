"""What the typing tests give a type checker: the tasks of a small typed user flow, and
the expectations its lines state in comments (``# T: type`` for what ``reveal_type``
must say, ``# E: [code] text`` for an error the checker must report on that line)."""

from __future__ import annotations

TASKS = '''\
from __future__ import annotations

import asyncio

from asyncflow import Flow, Parameter, task, unmapped


@task
async def add(x: int, y: int = 1) -> int:
    return x + y


@task(name="shout", max_retries=0)
def shout(text: str) -> str:
    return text.upper()


@task
def total(numbers: list[int]) -> int:
    return sum(numbers)


'''


def expectations(source: str, marker: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every ``# {marker}: ...`` comment in ``source``, lines from 1."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        _, sep, comment = line.partition(f"  # {marker}: ")
        if sep:
            found.append((number, comment))
    return found
