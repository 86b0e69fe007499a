"""Parameters: flow inputs supplied at run time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._attached import attached
from ._context import flow_run_var
from ._edges import building_flow_var
from ._exceptions import FlowDefinitionError, ParameterError
from ._task import Task

if TYPE_CHECKING:
    from ._flow import Flow

_UNSET: Any = object()


class Parameter(Task[Any]):
    """A task whose value comes from ``flow.run(parameters={name: value})``.

    Without ``default`` a parameter is required; ``required=True`` makes it required even
    with a default (the default is then ignored). Parameter names are unique in a flow.
    """

    __slots__ = ("default", "required")

    def __init__(self, name: str, default: Any = _UNSET, required: bool | None = None,
                 **options: Any) -> None:
        if not isinstance(name, str) or not name:
            raise FlowDefinitionError(f"a Parameter needs a non-empty string name, got {name!r}")
        if "result" not in options:
            options["result"] = attached.default_parameter_result()
        super().__init__(name=name, slug=name, **options)
        if required is None:
            required = default is _UNSET
        self.required = bool(required)
        self.default = None if default is _UNSET else default
        self._inline = True
        building = building_flow_var.get()
        if building is not None:
            building.add_task(self)  # a parameter declared in a flow belongs to it

    def check_value(self, value: Any) -> None:
        """Raise :class:`~asyncflow.ParameterError` if ``value`` cannot be this parameter's
        value; called for each given value when a run starts. Any value will do here."""

    def run(self) -> Any:
        flow_ctx = flow_run_var.get()
        if flow_ctx is None:
            return self.default
        params = flow_ctx.values.get("parameters") or {}
        return params.get(self.name, self.default)

    def copy(self, **task_args: Any) -> Parameter:
        raise FlowDefinitionError(
            f"parameter {self.name!r} cannot be called or copied; pass the Parameter object "
            "itself as an argument to other tasks"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.copy()

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"


def resolve_parameters(flow: Flow, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's parameter values; unknown or missing required ones raise ParameterError."""
    declared: dict[str, Parameter] = flow._parameters
    given = dict(given or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(
            f"flow {flow.name!r} got unknown parameters {unknown}; "
            f"its parameters are {sorted(declared) or 'none'}"
        )
    missing = sorted(n for n, p in declared.items() if p.required and n not in given)
    if missing:
        raise ParameterError(
            f"flow {flow.name!r} is missing required parameters {missing}; pass them as "
            f"flow.run(parameters={{{', '.join(repr(m) + ': ...' for m in missing)}}})"
        )
    for name, value in given.items():
        declared[name].check_value(value)
    values = {n: p.default for n, p in declared.items() if not p.required}
    values.update(given)
    return values
