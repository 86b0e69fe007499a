"""Flows drawn by the visualization tests."""

from __future__ import annotations

from typing import Any

from asyncflow import Flow, Parameter, task


@task
def add(x: int, y: int = 1) -> int:
    return x + y


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def fragile(x: int) -> int:
    if x == 1:
        raise ValueError("one is not allowed")
    return x


@task
def join(a: Any = None, b: Any = None) -> list[Any]:
    return [a, b]


def etl_flow() -> Flow:
    """A parameter, a chain, a state-only edge and a mapped task with a failing child."""
    with Flow("etl") as flow:
        n = Parameter("n", default=3)
        first = add(n)
        second = add(first, y=n)
        mapped = fragile.map(numbers(n))
        join(a=second, b=mapped, upstream_tasks=[first])
    return flow


def chain_flow(length: int) -> Flow:
    with Flow("chain") as flow:
        value: Any = add(0)
        for _ in range(length - 1):
            value = add(value)
    return flow
