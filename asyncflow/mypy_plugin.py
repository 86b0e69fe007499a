"""A mypy plugin that checks the arguments of task calls against the task's body.

Type annotations alone cannot say "each argument is the parameter's type *or a Task of
it*" (a ParamSpec carries the parameters' types but cannot change them), so without the
plugin a call of a task in a flow accepts any arguments and only its result is typed
(``Task[int]``). With it, mypy checks every call of a :class:`~asyncflow.FunctionTask`
(``add(x, y=1)``, ``add.bind(...)``, ``add.map(...)``) against the decorated function::

    # pyproject.toml
    [tool.mypy]
    plugins = ["asyncflow.mypy_plugin"]

For a parameter of type ``T`` a call accepts a ``T``, a ``Task[T]`` (a Parameter is a
``Task[Any]``), a ``mapped``/``unmapped``/``flatten`` wrapper, and containers of these
for container parameters (``list[T]`` takes ``[task_a, task_b]``). ``map`` takes an
iterable of those or a task of an iterable. Unknown keywords, missing arguments and extra
positional arguments are errors, as they are when the flow is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from mypy.nodes import ARG_NAMED, ARG_NAMED_OPT, ARG_STAR, ARG_STAR2, ArgKind, TypeInfo
from mypy.plugin import CheckerPluginInterface, MethodSigContext, Plugin
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    Parameters,
    ProperType,
    TupleType,
    Type,
    UnionType,
    get_proper_type,
)

# isort: split
# mypy.maptype imported before mypy.types fails on a cycle inside mypy.
from mypy.maptype import map_instance_to_supertype

__all__ = ["AsyncflowPlugin", "plugin"]

_TASK = "asyncflow._core._task.Task"
_FUNCTION_TASK = "asyncflow._core._task.FunctionTask"
_EDGE_ANNOTATION = "asyncflow._core._edges.EdgeAnnotation"
_ITERABLE = "typing.Iterable"

#: Containers whose one type argument is the element, and the covariant type that stands
#: for them when they hold tasks (a literal ``[task_a, 3]`` for a ``list[int]``).
_ELEMENT_CONTAINERS = {
    "builtins.list": "typing.Sequence", "builtins.tuple": "typing.Sequence",
    "typing.Sequence": "typing.Sequence", "typing.MutableSequence": "typing.Sequence",
    "typing.Iterable": "typing.Iterable", "typing.Collection": "typing.Collection",
    "builtins.set": "typing.AbstractSet", "builtins.frozenset": "typing.AbstractSet",
    "typing.AbstractSet": "typing.AbstractSet", "typing.MutableSet": "typing.AbstractSet",
}
#: Containers whose second type argument is the value, likewise.
_VALUE_CONTAINERS = {
    "builtins.dict": "typing.Mapping", "typing.Mapping": "typing.Mapping",
    "typing.MutableMapping": "typing.Mapping",
}
#: How deep inside nested containers tasks are looked for in argument types.
_MAX_DEPTH = 2

_SignatureHook = Callable[[MethodSigContext], CallableType]


class AsyncflowPlugin(Plugin):
    """Gives calls of function tasks the body's parameters, each widened to take tasks."""

    def get_method_signature_hook(self, fullname: str) -> _SignatureHook | None:
        """The hook checking the arguments of ``Task.bind`` and ``Task.map`` calls."""
        if fullname == f"{_TASK}.bind":
            return functools.partial(self._signature, mapped=False)
        if fullname == f"{_TASK}.map":
            return functools.partial(self._signature, mapped=True)
        if fullname.endswith(".__call__"):
            info = self._type_info(fullname.removesuffix(".__call__"))
            if info is not None and info.has_base(_FUNCTION_TASK):
                return functools.partial(self._signature, mapped=False)
        return None

    def _type_info(self, fullname: str) -> TypeInfo | None:
        node = self.lookup_fully_qualified(fullname)
        return node.node if node is not None and isinstance(node.node, TypeInfo) else None

    def _signature(self, ctx: MethodSigContext, *, mapped: bool) -> CallableType:
        """The declared signature with the body's parameters in place of ``*args, **kwargs``.

        The declared keyword-only options (``upstream_tasks``, ``flow``, ...) stay.
        """
        declared = ctx.default_signature
        found = _body_parameters(ctx.type)
        annotation = self._type_info(_EDGE_ANNOTATION)
        if found is None or annotation is None:  # not a function task, or not known
            return declared
        body, task_info = found
        widen = _Widening(ctx.api, task_info, Instance(annotation, []))
        types: list[Type] = []
        kinds: list[ArgKind] = []
        names: list[str | None] = []
        star2: tuple[Type, ArgKind, str | None] | None = None
        for arg_type, kind, name in zip(body.arg_types, body.arg_kinds, body.arg_names,
                                        strict=True):
            if kind == ARG_STAR:  # *args cannot be wired in a flow: leave it out
                continue
            if kind == ARG_STAR2:
                star2 = (widen(arg_type, mapped=mapped), kind, name)
                continue
            types.append(widen(arg_type, mapped=mapped))
            kinds.append(kind)
            names.append(name)
        taken = set(names)
        for arg_type, kind, name in zip(declared.arg_types, declared.arg_kinds,
                                        declared.arg_names, strict=True):
            if kind in (ARG_NAMED, ARG_NAMED_OPT) and name not in taken:
                types.append(arg_type)
                kinds.append(kind)
                names.append(name)
        if star2 is not None:
            types.append(star2[0])
            kinds.append(star2[1])
            names.append(star2[2])
        return declared.copy_modified(arg_types=types, arg_kinds=kinds, arg_names=names)


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls (``plugins = ["asyncflow.mypy_plugin"]``)."""
    return AsyncflowPlugin


def _body_parameters(receiver: Type) -> tuple[Parameters, TypeInfo] | None:
    """The body's parameters of a function task, and the ``Task`` class."""
    typ = get_proper_type(receiver)
    if not isinstance(typ, Instance):
        return None
    function_task = task = None
    for base in typ.type.mro:
        if base.fullname == _FUNCTION_TASK:
            function_task = base
        elif base.fullname == _TASK:
            task = base
    if function_task is None or task is None:
        return None
    params = get_proper_type(map_instance_to_supertype(typ, function_task).args[0])
    return (params, task) if isinstance(params, Parameters) else None


class _Widening:
    """The types a call accepts for a parameter: its own, a task of it, a wrapper."""

    def __init__(self, api: CheckerPluginInterface, task: TypeInfo, annotation: Type) -> None:
        self.api = api
        self.task = task
        self.annotation = annotation

    def __call__(self, arg_type: Type, *, mapped: bool) -> Type:
        if not mapped:
            return self.value_or_task(arg_type, 0)
        # A mapped argument is an iterable of values (or of tasks), a task of an iterable,
        # or a wrapper such as unmapped(value).
        iterable = self.api.named_generic_type(_ITERABLE, [arg_type])
        return UnionType.make_union([
            self.api.named_generic_type(_ITERABLE, [self.value_or_task(arg_type, 0)]),
            Instance(self.task, [iterable]),
            self.annotation,
        ])

    def value_or_task(self, arg_type: Type, depth: int) -> Type:
        proper = get_proper_type(arg_type)
        if isinstance(proper, AnyType):
            return arg_type
        items = [arg_type, Instance(self.task, [arg_type]), self.annotation]
        if depth < _MAX_DEPTH:
            holding_tasks = self.container_of_tasks(proper, depth + 1)
            if holding_tasks is not None:
                items.append(holding_tasks)
        return UnionType.make_union(items)

    def container_of_tasks(self, proper: ProperType, depth: int) -> Type | None:
        """``Sequence[T | Task[T]]`` for ``list[T]`` and the like: the flow turns a container
        holding tasks into a task of the container."""
        if isinstance(proper, TupleType):
            return proper.copy_modified(items=[self.value_or_task(t, depth) for t in proper.items])
        if isinstance(proper, UnionType):
            parts = [self.container_of_tasks(get_proper_type(t), depth) for t in proper.items]
            found = [p for p in parts if p is not None]
            return UnionType.make_union(found) if found else None
        if not isinstance(proper, Instance) or not proper.args:
            return None
        name = proper.type.fullname
        if name in _ELEMENT_CONTAINERS and len(proper.args) == 1:
            element = self.value_or_task(proper.args[0], depth)
            return self.api.named_generic_type(_ELEMENT_CONTAINERS[name], [element])
        if name in _VALUE_CONTAINERS and len(proper.args) == 2:
            key, value = proper.args
            return self.api.named_generic_type(
                _VALUE_CONTAINERS[name], [key, self.value_or_task(value, depth)]
            )
        return None
