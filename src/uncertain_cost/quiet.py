"""A clean terminal during a run: library warnings silenced, the package's own warnings kept as ``note:`` lines.

A successful run should print its stage lines, its bars and its answer, not a library's
``FutureWarning`` or a warning's source path. Inside :func:`quiet_run`:

- :class:`~uncertain_cost.errors.UncertainCostWarning` messages are collected (once each) and
  handed back, for the caller to print as ``note:`` lines;
- matplotlib's "Glyph ... missing from font" warnings (non-Latin model names) and library
  ``FutureWarning`` / ``DeprecationWarning`` are dropped;
- any other library warning becomes a one-line note naming its category, without a path;
- Dask's ``distributed`` loggers are held at CRITICAL, in this process and (through the
  environment) in the worker processes a LocalCluster starts, so a normal shutdown does not
  print heartbeat tracebacks (task errors still reach the caller as exceptions).

Warning filters that turn warnings into errors (as the test suite's) still apply.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from uncertain_cost.errors import UncertainCostWarning

__all__ = ["quiet_run", "Noted"]

#: Dask's loggers (and the env var worker processes read) silenced for a run
_DASK_LOGGERS = ("distributed", "tornado")
_DASK_ENV = "DASK_LOGGING__DISTRIBUTED"


@dataclass
class Noted:
    """Warnings a run raised, one entry per distinct message, without source paths.

    Attributes
    ----------
    package : list of str
        :class:`~uncertain_cost.errors.UncertainCostWarning` messages (what a user must know,
        e.g. a fit that did not converge).
    library : list of str
        Other warnings that were not dropped, prefixed with their category.
    """

    package: list[str] = field(default_factory=list)
    library: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        """Package warnings, then library ones."""
        return self.package + self.library


@contextlib.contextmanager
def quiet_run() -> Iterator[Noted]:
    """Run a block with library noise silenced; yield the :class:`Noted` its warnings are collected into.

    Yields
    ------
    Noted
    """
    noted = Noted()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        into = noted.package if issubclass(category, UncertainCostWarning) else noted.library
        if not issubclass(category, UncertainCostWarning):
            text = f"{category.__name__}: {text}"
        if text not in into:
            into.append(text)

    levels = {name: logging.getLogger(name).level for name in _DASK_LOGGERS}
    env = os.environ.get(_DASK_ENV)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.showwarning = show
        for name in _DASK_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        os.environ[_DASK_ENV] = "critical"
        try:
            yield noted
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            if env is None:
                os.environ.pop(_DASK_ENV, None)
            else:
                os.environ[_DASK_ENV] = env
