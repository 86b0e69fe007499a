"""A task library, as Prefect 1.x's ``prefect.tasks``: constants, operator tasks, control
flow (``case``, ``switch``, ``ifelse``, ``merge``) and resource managers.

Operator tasks are what Python operators on tasks build (``a + b`` is an ``Add``);
``GetAttr`` is the one often made by hand::

    from asyncflow import Flow, Parameter
    from asyncflow.tasks import GetAttr, case, merge

    with Flow("example") as flow:
        config = Parameter("config")
        host = GetAttr(default="localhost")(config, "db.host")
        with case(host, "localhost"):
            local = start_local_db()
        with case(host.is_not_equal("localhost"), True):
            remote = connect(host)
        db = merge(local, remote)
"""

from __future__ import annotations

from ._core._apply_map import apply_map as apply_map
from ._core._constant import Constant as Constant
from ._core._operators import (
    Add as Add,
    And as And,
    Div as Div,
    Equal as Equal,
    FloorDiv as FloorDiv,
    GetAttr as GetAttr,
    GetItem as GetItem,
    GreaterThan as GreaterThan,
    GreaterThanOrEqual as GreaterThanOrEqual,
    LessThan as LessThan,
    LessThanOrEqual as LessThanOrEqual,
    Mod as Mod,
    Mul as Mul,
    Not as Not,
    NotEqual as NotEqual,
    Or as Or,
    Pow as Pow,
    Sub as Sub,
)
from ._tasks._case import case as case
from ._tasks._conditional import (
    CompareValue as CompareValue,
    Merge as Merge,
    ifelse as ifelse,
    merge as merge,
    switch as switch,
)
from ._tasks._resource_manager import (
    ResourceManager as ResourceManager,
    resource_manager as resource_manager,
)

__all__ = [
    "Add",
    "And",
    "CompareValue",
    "Constant",
    "Div",
    "Equal",
    "FloorDiv",
    "GetAttr",
    "GetItem",
    "GreaterThan",
    "GreaterThanOrEqual",
    "LessThan",
    "LessThanOrEqual",
    "Merge",
    "Mod",
    "Mul",
    "Not",
    "NotEqual",
    "Or",
    "Pow",
    "ResourceManager",
    "Sub",
    "apply_map",
    "case",
    "ifelse",
    "merge",
    "resource_manager",
    "switch",
]
