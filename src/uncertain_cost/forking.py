"""Run one call in a forked process beside the caller's work, with the caller's result, errors and warnings.

A run's steps are mostly single-threaded Python with numba and NumPy underneath: on two cores
half the machine idles while, say, the growth fits run. `ForkedCall` starts a call in a child
process made with ``fork`` (it sees the parent's memory as it was: data, configuration, compiled
kernels) and hands its return value back through a pipe, pickled. What the call raises is raised
again in the caller, and the warnings it emits are emitted again in the caller, in order, so
filters, notes and the test suite's warnings-as-errors behave as if the call had run in place.

Forking is only used where it is safe and pays: on Linux, with at least two usable cores, and
while numba's threading layer is fork-safe (`prefer_fork_safe_threading` asks for one before
the first parallel kernel; GNU OpenMP aborts a child that starts parallel work). Anywhere else
the call runs in the caller when its result is asked for, with the same result: every step is
seeded, and no result depends on the process or the number of threads.
"""

from __future__ import annotations

import mmap
import os
import pickle
import sys
import warnings
from collections.abc import Callable
from typing import Any

from uncertain_cost.threads import available_cpus

__all__ = ["ForkedCall", "SharedFlag", "die_with_parent", "fork_allowed", "prefer_fork_safe_threading"]


def prefer_fork_safe_threading() -> None:
    """Ask numba for a fork-safe threading layer (TBB or its work queue), unless the user chose one.

    Has no effect once a parallel kernel has run (the layer is then fixed) or when
    ``NUMBA_THREADING_LAYER`` is set.
    """
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return
    import numba

    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "forksafe"


def _threading_layer_fork_safe() -> bool:
    """Whether a forked child may start numba parallel work (GNU OpenMP in the parent forbids it)."""
    numba = sys.modules.get("numba")
    if numba is None:
        return True
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run: the configured choice decides
        return numba.config.THREADING_LAYER in ("forksafe", "tbb", "workqueue")
    return layer in ("tbb", "workqueue")


def die_with_parent() -> None:
    """In a forked child: be killed when the parent dies (Linux ``PR_SET_PDEATHSIG``), never outlive it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux's libc
        pass


def fork_allowed() -> bool:
    """Whether `ForkedCall` may fork here: Linux, two or more usable cores, numba threads not capped at 1.

    Returns
    -------
    bool
    """
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    cap = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if cap.isdigit() and int(cap) < 2:
        return False
    return available_cpus() >= 2


class SharedFlag:
    """A flag set in one process and seen in a process forked before (shared anonymous memory).

    The caller sets it when it starts waiting for a `ForkedCall`; the child can then stop work
    that only fills spare time (see `uncertain_cost.pipeline`).
    """

    def __init__(self):
        self._memory = mmap.mmap(-1, 1)  # MAP_SHARED by default: a fork shares it

    def set(self) -> None:
        """Raise the flag (seen by every process forked since the flag was made)."""
        self._memory[0] = 1

    def is_set(self) -> bool:
        """Whether the flag is raised.

        Returns
        -------
        bool
        """
        return self._memory[0] == 1


class ForkedCall:
    """``func(*args, **kwargs)`` computed in a forked child while the caller goes on.

    Parameters
    ----------
    func : callable
        Its arguments and return value must pickle (the return value crosses a pipe).
    *args, **kwargs
        Passed to ``func``.

    Notes
    -----
    ``call = ForkedCall(f, x).start()`` forks (where `fork_allowed` and the threading layer
    is fork-safe); ``call.result()`` waits and returns ``f(x)``, raising what ``f`` raised.
    Where forking is not allowed, or the child dies without a result (killed, out of memory),
    ``result()`` calls ``f`` in the caller.
    """

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any):
        self.func, self.args, self.kwargs = func, args, kwargs
        self._pid: int | None = None
        self._read_fd: int | None = None
        self.forked = False
        #: after `result`: whether the value came from the child (False: computed in the caller)
        self.from_child = False

    def start(self) -> ForkedCall:
        """Fork the child that computes the call (or do nothing where forking is not allowed).

        Returns
        -------
        ForkedCall
            ``self``.
        """
        if not (fork_allowed() and _threading_layer_fork_safe()):
            return self
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without running the parent's cleanup
            os.close(read_fd)
            die_with_parent()
            code = 0
            try:
                payload = self._outcome()
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:  # noqa: BLE001 - the parent computes the call itself
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._read_fd, self.forked = pid, read_fd, True
        return self

    def _outcome(self) -> bytes:
        """Pickled ``("value", result, warnings)`` or ``("error", exception, warnings)``."""
        with warnings.catch_warnings(record=True) as caught:
            try:
                outcome: tuple = ("value", self.func(*self.args, **self.kwargs))
            except Exception as exc:  # noqa: BLE001 - raised again in the parent
                outcome = ("error", exc)
        records = [(w.message, w.category, w.filename, w.lineno) for w in caught]
        if outcome[0] == "value":  # a value that does not pickle fails the child: the parent computes it
            return pickle.dumps((*outcome, records), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            return pickle.dumps((*outcome, records), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: send its type and text
            error = RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}")
            return pickle.dumps(("error", error, records), protocol=pickle.HIGHEST_PROTOCOL)

    def result(self) -> Any:
        """Wait for the call and return its value.

        Returns
        -------
        object
            What ``func`` returned.

        Raises
        ------
        Exception
            What ``func`` raised.
        """
        if not self.forked:
            return self.func(*self.args, **self.kwargs)
        with os.fdopen(self._read_fd, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self.forked, self._pid, self._read_fd = False, None, None
        if not payload or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return self.func(*self.args, **self.kwargs)  # the child died: compute here
        kind, value, records = pickle.loads(payload)
        self.from_child = True
        for message, category, filename, lineno in records:
            warnings.warn_explicit(message, category, filename, lineno)
        if kind == "error":
            raise value
        return value
