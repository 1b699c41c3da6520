"""Key numba's on-disk cache of the compiled cost kernels on the source of every file they compile in.

numba stamps a cached function with the modification time and size of the one file that
defines it, but a kernel also compiles in the functions it calls from other files (the
fused Monte Carlo kernel inlines ``costs.row_costs`` and the ``sampling.streams``
generators) and the module constants it reads (``units``, ``data.facts``). Editing one of
those left the cached kernel in place: a stale kernel ran silently. This module registers a
cache locator, ahead of numba's own, for the functions defined in a group of source files:
it keeps numba's cache folder but stamps the cache with a SHA-256 of the content of every
file in the group, so an edit to any of them recompiles every kernel of the group.

The group of the cost kernels is :data:`KERNEL_SOURCES`; :func:`register_kernel_sources`
adds another (the tests use it on a scratch package). The locator uses numba's
``CacheImpl._locator_classes`` hook; a user's
``NUMBA_CACHE_LOCATOR_CLASSES`` still takes precedence. Import this module before defining
a kernel of the group (``costs``, ``sampling.streams`` and ``engine`` do).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from numba.core.caching import _CacheLocator

from uncertain_cost.forking import prefer_fork_safe_threading

try:  # numba >= 0.60 names it CacheImpl
    from numba.core.caching import CacheImpl as _CacheImpl
except ImportError:  # pragma: no cover
    from numba.core.caching import _CacheImpl

# Before any parallel kernel runs: a fork-safe threading layer (TBB or numba's work queue, not
# GNU OpenMP), so that steps can run in forked children (uncertain_cost.forking).
prefer_fork_safe_threading()

__all__ = ["KERNEL_SOURCES", "register_kernel_sources", "source_stamp", "SourceHashLocator"]

_PACKAGE = Path(__file__).resolve().parent
#: files compiled into the cost kernels (definitions, inlined callees, frozen constants)
KERNEL_SOURCES = tuple(_PACKAGE / name for name in (
    "engine.py", "costs.py", "sampling/streams.py", "units.py", "data/facts.py"))

#: resolved source file -> the group of files whose content stamps its cache
_GROUPS: dict[Path, tuple[Path, ...]] = {}
#: group -> ((path, mtime_ns, size) of each file, digest): hash each file set once per change
_DIGESTS: dict[tuple[Path, ...], tuple[tuple, str]] = {}


def register_kernel_sources(paths: Iterable[str | Path]) -> tuple[Path, ...]:
    """Stamp the numba cache of every function defined in ``paths`` with the content of all of them.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Python source files: the files that define kernels and the files they compile in.

    Returns
    -------
    tuple of pathlib.Path
        The group, resolved.
    """
    group = tuple(Path(p).resolve() for p in paths)
    for path in group:
        _GROUPS[path] = group
    return group


def source_stamp(group: tuple[Path, ...]) -> str:
    """SHA-256 over the names and contents of the files of ``group`` (what a cached kernel is keyed on).

    Parameters
    ----------
    group : tuple of pathlib.Path

    Returns
    -------
    str
        Hex digest; a missing file counts as empty.
    """
    stats = []
    for path in group:
        try:
            st = os.stat(path)
            stats.append((path, st.st_mtime_ns, st.st_size))
        except OSError:
            stats.append((path, None, None))
    known = _DIGESTS.get(group)
    if known is not None and known[0] == tuple(stats):
        return known[1]
    digest = hashlib.sha256()
    for path in group:
        digest.update(path.name.encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
        digest.update(b"\0")
    _DIGESTS[group] = (tuple(stats), digest.hexdigest())
    return digest.hexdigest()


class SourceHashLocator(_CacheLocator):
    """numba cache locator: numba's own folder for the function, stamped by :func:`source_stamp` of its group.

    Parameters
    ----------
    inner : numba.core.caching._CacheLocator
        The locator numba would have used (decides the folder and the file names).
    group : tuple of pathlib.Path
    """

    def __init__(self, inner: _CacheLocator, group: tuple[Path, ...]):
        self._inner = inner
        self._group = group

    def ensure_cache_path(self):
        """Create the cache folder (numba's)."""
        return self._inner.ensure_cache_path()

    def get_cache_path(self):
        """Return the folder numba would use for this function."""
        return self._inner.get_cache_path()

    def get_source_stamp(self):
        """Return the group's content hash (numba compares it with the stamp in the cache index)."""
        return ("sha256", source_stamp(self._group))

    def get_disambiguator(self):
        """Return numba's own disambiguator (the defining line)."""
        return self._inner.get_disambiguator()

    @classmethod
    def from_function(cls, py_func, py_file):
        """Return a locator for a function of a registered group, None for any other (numba then uses its own)."""
        try:
            group = _GROUPS.get(Path(py_file).resolve())
        except OSError:
            return None
        if group is None:
            return None
        for other in _CacheImpl._locator_classes:
            if other is cls:
                continue
            inner = other.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner, group)
        return None


def _install() -> None:
    if SourceHashLocator not in _CacheImpl._locator_classes:
        _CacheImpl._locator_classes.insert(0, SourceHashLocator)


_install()
register_kernel_sources(KERNEL_SOURCES)
