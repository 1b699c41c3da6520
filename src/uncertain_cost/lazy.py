"""Package attributes imported on first use (PEP 562), from a table of public name -> defining module.

Parsing a config imports the settings module of every stage package; a package that imported
its numerical modules eagerly made ``validate`` and ``estimate`` load numba, ArviZ and
matplotlib. Each such package states its public names and where they live, and takes its
module ``__getattr__`` and ``__dir__`` from `lazy_exports`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package`` that import each exported name on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (already in ``sys.modules``).
    exports : mapping of str to str
        Public name -> the module that defines it.

    Returns
    -------
    tuple of callable
        The module-level ``__getattr__`` (imports, caches in the package's namespace, and
        returns the value; ``AttributeError`` for an unknown name) and ``__dir__``.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    __getattr__.__doc__ = f"Import the module that defines a public name of {package} on first use."
    __dir__.__doc__ = "Public names, including those not imported yet."
    return __getattr__, __dir__
