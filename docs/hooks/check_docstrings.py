"""MkDocs hook: every public name of asyncflow must have a docstring.

mkdocstrings renders an undocumented object as a bare signature without a word of
warning, so this hook looks for them itself and logs a warning for each, which
``mkdocs build --strict`` turns into a failed build. Public means: a module of
``asyncflow`` whose name does not start with ``_``, each name in its ``__all__``, and
each public method or nested class of an exported class. A method that overrides one
documented in a base class counts as documented (its contract is the base's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import griffe

log = logging.getLogger("mkdocs.plugins.check_docstrings")


def _public_modules(module: griffe.Module) -> Iterator[griffe.Module]:
    yield module
    for name, submodule in module.modules.items():
        if not name.startswith("_"):
            yield from _public_modules(submodule)


def _target(obj: Any) -> Any:
    try:
        return obj.final_target if obj.is_alias else obj
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _documented_in_a_base(cls: griffe.Class, name: str) -> bool:
    for base in cls.mro():
        member = base.members.get(name)
        target = _target(member) if member is not None else None
        if target is not None and target.docstring:
            return True
    return False


def undocumented(package: griffe.Module) -> list[str]:
    """The dotted paths of the public objects of ``package`` that have no docstring."""
    missing: list[str] = []
    for module in _public_modules(package):
        if not module.docstring:
            missing.append(module.path)
        for name in module.exports or ():
            member = module.members.get(name)
            target = _target(member) if member is not None else None
            if target is None or target.is_module:
                continue
            if not target.docstring:
                missing.append(f"{module.path}.{name}")
            if not target.is_class:
                continue
            for member_name, method in target.members.items():
                if member_name.startswith("_"):
                    continue
                method_target = _target(method)
                if method_target is None or method_target.kind.value not in ("function", "class"):
                    continue
                if method_target.docstring or _documented_in_a_base(target, member_name):
                    continue
                missing.append(f"{module.path}.{name}.{member_name}")
    return sorted(set(missing))


def on_pre_build(config: Any) -> None:
    """Warn about each undocumented public object (a failure under ``--strict``)."""
    # griffe_sphinx reads the ``#:`` comments that document module constants.
    package = griffe.load("asyncflow", search_paths=["."], resolve_aliases=True,
                          resolve_external=False,
                          extensions=griffe.load_extensions("griffe_sphinx"))
    assert isinstance(package, griffe.Module)
    for path in undocumented(package):
        log.warning("%s has no docstring: the API reference would show it bare; "
                    "add one (see /work/shared/style.md for the style)", path)
