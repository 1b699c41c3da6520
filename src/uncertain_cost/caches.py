"""Point library caches (numba, PyTensor, matplotlib, ArviZ) at a temp folder when theirs is unwritable.

Called from the package ``__init__``, before numba, PyTensor, matplotlib or ArviZ are
imported, because each reads its location from the environment once, at import. A
variable the user already set is never changed; a default location that is writable is
left alone, so on an ordinary machine nothing changes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

__all__ = ["setup_caches", "writable"]


def writable(path: str | Path) -> bool:
    """Whether ``path`` can be written, or created under its nearest existing ancestor.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    bool
    """
    path = Path(path)
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _fallback(name: str) -> str:
    base = Path(tempfile.gettempdir()) / f"uncertain_cost-cache-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return str(folder)


def setup_caches(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set cache environment variables to a temp folder where the defaults are unwritable.

    Parameters
    ----------
    environ : mutable mapping, optional
        The environment to update (default ``os.environ``).

    Returns
    -------
    dict
        The variables that were set (empty on a machine with writable defaults).
    """
    env = os.environ if environ is None else environ
    changed: dict[str, str] = {}
    home = Path(env.get("HOME") or Path.home())
    xdg_cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache")
    try:
        if "XDG_CACHE_HOME" not in env and not writable(xdg_cache):
            # ArviZ's daily-warning stamp and numba's user-wide cache both live here.
            changed["XDG_CACHE_HOME"] = _fallback("xdg")
        package_cache = Path(__file__).resolve().parent / "__pycache__"
        user_numba = Path(changed.get("XDG_CACHE_HOME", xdg_cache)) / "numba"
        if "NUMBA_CACHE_DIR" not in env and not writable(package_cache) and not writable(user_numba):
            changed["NUMBA_CACHE_DIR"] = _fallback("numba")
        config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        if "MPLCONFIGDIR" not in env and not writable(config_home / "matplotlib"):
            changed["MPLCONFIGDIR"] = _fallback("matplotlib")
        flags = env.get("PYTENSOR_FLAGS", "")
        if "compiledir" not in flags and not writable(home / ".pytensor"):
            changed["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={_fallback('pytensor')}") if f)
    except OSError:
        return changed  # no writable temp folder either: leave the libraries to report it
    env.update(changed)
    return changed
