"""Finding the flow a command names: ``path/to/file.py[:variable]`` or ``module[:variable]``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import cloudpickle

from .._core._flow import Flow
from ._errors import CLIError


def split_target(target: str) -> tuple[str, str | None]:
    """``"etl.py:flow"`` -> ``("etl.py", "flow")``; a Windows drive colon is not a split."""
    where, sep, name = target.rpartition(":")
    if sep and where and name.isidentifier():
        return where, name
    return target, None


def is_path(where: str) -> bool:
    return where.endswith(".py") or os.sep in where or "/" in where or os.path.isfile(where)


def load_flow(target: str) -> Flow:
    """The Flow that ``target`` names, or a :class:`CLIError` that says what is wrong."""
    where, name = split_target(target)
    if not where:
        raise CLIError("no flow given; write path/to/file.py[:variable] or module:variable")
    module = _import_file(where) if is_path(where) else _import_module(where)
    return pick_flow(module, where, name)


def _import_file(where: str) -> ModuleType:
    path = Path(where)
    if not path.exists():
        raise CLIError(f"file {where!r} does not exist")
    if not path.is_file():
        raise CLIError(f"{where!r} is not a file; give the .py file that defines the flow")
    path = path.resolve()
    directory = str(path.parent)
    if directory not in sys.path:
        # Appended, not prepended: the file's neighbours are importable, but a file named
        # like a standard module (numbers.py, types.py) never shadows it.
        sys.path.append(directory)
    name = "_asyncflow_flow_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot import {where!r}; give a Python source file ending in .py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # The module has no importable name, so values of its classes are pickled by value
    # (as for a script run with `python file.py`) and `result read` can load them later.
    cloudpickle.register_pickle_by_value(module)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise CLIError(f"importing {where!r} failed: {_describe(exc)}") from exc
    return module


def _import_module(where: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` does
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (where == exc.name or where.startswith(exc.name + ".")):
            raise CLIError(
                f"no module named {exc.name!r}; give a path to a .py file, or run from the "
                f"directory that contains the module"
            ) from exc
        raise CLIError(f"importing module {where!r} failed: {_describe(exc)}") from exc
    except Exception as exc:
        raise CLIError(f"importing module {where!r} failed: {_describe(exc)}") from exc


def pick_flow(module: ModuleType, where: str, name: str | None) -> Flow:
    """The flow called ``name`` in ``module``, or its only flow when no name is given."""
    flows = find_flows(module)
    if name is not None:
        if not hasattr(module, name):
            raise CLIError(f"{where} has no variable {name!r}; {_listing(flows)}")
        obj = getattr(module, name)
        if not isinstance(obj, Flow):
            raise CLIError(
                f"{where}:{name} is a {type(obj).__name__}, not a Flow; {_listing(flows)}"
            )
        return obj
    if not flows:
        raise CLIError(
            f"{where} defines no Flow; build one at module level, e.g. "
            "`with Flow('etl') as flow: ...`"
        )
    if len(flows) > 1:
        names = ", ".join(f"{var} ({flow.name!r})" for var, flow in flows)
        raise CLIError(
            f"{where} defines several flows: {names}; name one, e.g. {where}:{flows[0][0]}"
        )
    return flows[0][1]


def find_flows(module: ModuleType) -> list[tuple[str, Flow]]:
    """The module's public Flow variables, each flow once (under its first name)."""
    seen: set[int] = set()
    found: list[tuple[str, Flow]] = []
    for var, obj in vars(module).items():
        if isinstance(obj, Flow) and not var.startswith("_") and id(obj) not in seen:
            seen.add(id(obj))
            found.append((var, obj))
    return found


def _listing(flows: list[tuple[str, Flow]]) -> str:
    if not flows:
        return "it defines no Flow"
    return "its flows are: " + ", ".join(var for var, _ in flows)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    tb = exc.__traceback__
    line = None
    while tb is not None:
        line = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if line is not None and not isinstance(exc, SyntaxError):  # SyntaxError names its line
        return f"{text} (at {os.path.basename(line[0])}:{line[1]})"
    return text
