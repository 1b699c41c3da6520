"""Memory: what a Monte Carlo run needs at least, what the process may use, sizes in words.

Plain Python (no numba), so that the command line can refuse an impossible ``--draws``
before importing the engine; :mod:`uncertain_cost.engine` re-exports these names and
checks them before it allocates.
"""

from __future__ import annotations

from uncertain_cost.sampling.design import BLOCK_DRAWS

__all__ = ["TOTALS_FLOAT64_BUDGET", "estimate_memory_bytes", "available_memory_bytes", "format_bytes"]

#: memory budget (bytes) for the per-method totals of all draws, above which they are float32
TOTALS_FLOAT64_BUDGET = 600 * 2**20


def estimate_memory_bytes(draws: int, n_models: int, *, keep_draws: int = 10_000, chunk_blocks: int = 4,
                          n_columns: int = 64) -> int:
    """Peak memory :func:`simulate` and the summaries after it need, in bytes (a lower bound).

    Counts the per-method totals of all draws (float32 above
    :data:`TOTALS_FLOAT64_BUDGET`), one float64 working copy of a method's totals (for
    quantiles), the kept draws with their four components and the draw buffer of one
    chunk.

    Parameters
    ----------
    draws, n_models : int
    keep_draws, chunk_blocks : int
        As for :func:`simulate`.
    n_columns : int
        Columns of the draw buffer (inputs x scopes); a typical value by default.

    Returns
    -------
    int
    """
    if draws < 0 or n_models < 0:
        raise ValueError(f"draws and n_models must be >= 0, got {draws}, {n_models}")
    totals = 3 * draws * n_models * 8
    itemsize = 8 if totals <= TOTALS_FLOAT64_BUDGET else 4
    kept = min(keep_draws, draws)
    return int(3 * draws * n_models * itemsize + draws * n_models * 8 + kept * n_models * (4 + 2) * 8
               + min(draws, max(1, chunk_blocks) * BLOCK_DRAWS) * n_columns * 8)


def available_memory_bytes() -> int | None:
    """Memory the process may still use: ``MemAvailable`` (Linux), capped by an address-space limit.

    Returns
    -------
    int or None
        None when it cannot be determined.
    """
    have = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    have = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        have = None
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            have = soft if have is None else min(have, soft)
    except (ImportError, OSError, ValueError):
        pass
    return have


def format_bytes(n: float) -> str:
    """Human-readable size: ``1.5 GiB``."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        scale = {"TiB": 2**40, "GiB": 2**30, "MiB": 2**20, "KiB": 2**10}[unit]
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"
