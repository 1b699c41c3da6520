"""Element-wise NumPy/SciPy ufuncs on this process's cores, with results independent of the split.

SciPy's special functions (``gammaincinv``, ``stdtrit``) cost about a microsecond an element
and release the GIL, so splitting a large call into contiguous pieces computed in threads
divides its wall time by the cores. Every element is computed alone, so the values are the
same whatever the number of threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["MIN_ELEMENTS", "available_cpus", "elementwise"]

#: Below this many elements a call runs in the calling thread (threads cost ~0.1 ms to start).
MIN_ELEMENTS = 20_000


def available_cpus(limit: int | None = None) -> int:
    """CPUs this process may run on (its affinity mask), at most ``limit``.

    Parameters
    ----------
    limit : int, optional

    Returns
    -------
    int
        At least 1.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus if limit is None else min(cpus, int(limit)))


def elementwise(func, *args, threads: int | None = None, min_elements: int = MIN_ELEMENTS) -> np.ndarray:
    """``func(*args)`` for an element-wise ``func``, computed in contiguous pieces in threads.

    Parameters
    ----------
    func : callable
        An element-wise function of broadcastable arrays that releases the GIL (a ufunc).
    *args : array_like
        Broadcast together; the result has the broadcast shape.
    threads : int, optional
        Default: `available_cpus`.
    min_elements : int, default `MIN_ELEMENTS`
        Smaller calls run in the calling thread.

    Returns
    -------
    numpy.ndarray
        Float64, equal element for element to ``func(*args)``.
    """
    arrays = np.broadcast_arrays(*[np.asarray(a) for a in args])
    shape = arrays[0].shape
    n = int(np.prod(shape)) if shape else 1
    workers = available_cpus(threads)
    if workers < 2 or n < min_elements:
        return np.asarray(func(*arrays), dtype=np.float64)
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    out = np.empty(n, dtype=np.float64)
    edges = np.linspace(0, n, workers + 1).astype(np.int64)

    def fill(k):
        lo, hi = int(edges[k]), int(edges[k + 1])
        out[lo:hi] = func(*[a[lo:hi] for a in flat])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fill, range(workers)))
    return out.reshape(shape)
