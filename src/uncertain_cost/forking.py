"""Work in forked processes beside the caller's: one call (`ForkedCall`), or a queue of file jobs (`SharedJobs`).

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

`SharedJobs` serves the writer: while the caller writes the tables, a forked helper encodes
``results.nc`` and renders PNGs (matplotlib draws in Python with the GIL held, so threads would
not help); the caller joins in on what is left. The bytes do not depend on who made them.
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import struct
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from uncertain_cost.threads import available_cpus

__all__ = ["ForkedCall", "SharedFlag", "SharedJobs", "die_with_parent", "fork_allowed", "prefer_fork_safe_threading",
           "shared_map"]


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


def _wait(pid: int) -> int:
    """``os.waitpid(pid, 0)`` that lets this process's signal handlers run while it waits.

    A signal (SIGTERM, SIGINT) may be delivered to another thread (numba's or nutpie's
    workers); a main thread blocked in ``waitpid`` would then never see it, and the run would
    not stop until the child did. Polling returns to the interpreter every few milliseconds.
    """
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.005)


def _read_all(fd: int) -> bytes:
    """Everything from pipe ``fd`` until its writer closes it, letting signal handlers run (see `_wait`)."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill_and_reap(pid: int) -> None:
    """SIGKILL a child of this process and wait for it (no zombie, no open file kept)."""
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # pragma: no cover - already gone
        pass
    _wait(pid)


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

    def start(self, worth_it: bool = True) -> ForkedCall:
        """Fork the child that computes the call (or do nothing where forking is not allowed).

        Parameters
        ----------
        worth_it : bool, default True
            False for a call known to be trivial (a disabled step): `result` computes it here.

        Returns
        -------
        ForkedCall
            ``self``.
        """
        if not (worth_it and fork_allowed() and _threading_layer_fork_safe()):
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

    def cancel(self) -> None:
        """Kill the child, if any, and reap it (the caller gave up: an error or an interrupt)."""
        if self.forked:
            _kill_and_reap(self._pid)
            if self._read_fd is not None:
                os.close(self._read_fd)
            self.forked, self._pid, self._read_fd = False, None, None

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
        try:
            payload = _read_all(self._read_fd)
        finally:
            os.close(self._read_fd)
            self._read_fd = None
        status = _wait(self._pid)
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


_TOKEN = struct.Struct("<I")
_PART = ".part"


def _take(fd: int) -> int | None:
    """Return the next item index from a queue pipe (`_TOKEN` reads are atomic), None when it is empty."""
    token = os.read(fd, _TOKEN.size)
    return _TOKEN.unpack(token)[0] if len(token) == _TOKEN.size else None


def shared_map(func: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[func(item) for item in items]``, the items shared between this process and one forked child.

    Both processes take the next item from one queue until it is empty, so the faster one does
    more (a fixed half each left one process waiting for the other: 2.0 s against 1.4 s in
    the default run's backtest). The values come back in the order of ``items``. ``func``
    must give the same value for an item in any process (each item seeded on its own), and
    its values must pickle. Items the child took but did not finish (it died) are computed
    here; where forking is not allowed (`ForkedCall`), everything is.

    Parameters
    ----------
    func : callable
    items : sequence

    Returns
    -------
    list
    """
    items = list(items)
    if len(items) < 2:
        return [func(item) for item in items]
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, b"".join(_TOKEN.pack(i) for i in range(len(items))))  # < PIPE_BUF: never blocks
    finally:
        os.close(write_fd)  # the queue ends after the last item

    def drain() -> dict[int, Any]:
        done = {}
        while (index := _take(read_fd)) is not None:
            done[index] = func(items[index])
        return done

    try:
        child = ForkedCall(drain).start()
        try:
            done = drain()
            done.update(child.result())  # a child that never ran or died: its drain finds the queue empty
        except BaseException:
            child.cancel()
            raise
    finally:
        os.close(read_fd)
    return [done[i] if i in done else func(items[i]) for i in range(len(items))]


class SharedJobs:
    """Named jobs that each make one file's bytes, shared by the caller and one forked helper.

    The jobs are dealt out through a pipe, four bytes a job (reads of at most ``PIPE_BUF``
    bytes are atomic, so each job goes to exactly one process), in the order given: the helper
    starts at once, the caller joins in when it calls `finish`. Each process writes what it
    made into ``scratch``; `finish` then makes, in the caller, any job the helper did not
    finish (a helper that failed or died costs time, never a file). The jobs must not start
    numba parallel work (the helper is forked whatever the threading layer) and must give the
    same bytes in any process (the writer's jobs render figures and encode ``results.nc``).

    Parameters
    ----------
    jobs : mapping of str to callable
        ``{name: make}``; ``make()`` returns the bytes of file ``name``.
    scratch : pathlib.Path
        A folder for the made files (created; removed by `finish`).
    helper : bool, optional
        Fork a helper; default `fork_allowed`.
    """

    def __init__(self, jobs: Mapping[str, Callable[[], bytes]], scratch: Path, helper: bool | None = None):
        self.jobs = dict(jobs)
        self.names = list(self.jobs)
        self.scratch = Path(scratch)
        self.helper = fork_allowed() if helper is None else bool(helper)
        self._read_fd: int | None = None
        self._pid: int | None = None

    def start(self) -> SharedJobs:
        """Deal out the jobs and fork the helper (when allowed and there are at least two jobs).

        Returns
        -------
        SharedJobs
            ``self``.
        """
        self.scratch.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        os.write(write_fd, b"".join(_TOKEN.pack(i) for i in range(len(self.names))))
        self._read_fd = read_fd
        if self.helper and len(self.names) >= 2:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the helper: take jobs until the pipe is empty, then leave without cleanup
                os.close(write_fd)
                die_with_parent()
                code = 0
                try:
                    self._drain()
                except BaseException:  # noqa: BLE001 - the caller makes what is missing
                    code = 1
                finally:
                    os._exit(code)
            self._pid = pid
        os.close(write_fd)
        return self

    def __enter__(self) -> SharedJobs:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self.abort()
        return False

    def abort(self) -> None:
        """Give up: kill the helper, close the pipe and remove the scratch folder (after an error)."""
        if self._pid is not None:
            _kill_and_reap(self._pid)
            self._pid = None
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None
        self._remove_scratch()

    def _drain(self) -> None:
        """Take jobs from the pipe and write each one's file, until none is left."""
        while (index := _take(self._read_fd)) is not None:
            name = self.names[index]
            part = self.scratch / (name + _PART)
            part.write_bytes(self.jobs[name]())
            part.replace(self.scratch / name)

    def finish(self) -> dict[str, bytes]:
        """Do the jobs left, wait for the helper, make any job it did not finish; return every file's bytes.

        Returns
        -------
        dict of str to bytes
            ``{name: bytes}`` in the order of the jobs.
        """
        if self._read_fd is None:
            self.start()
        try:
            self._drain()
            os.close(self._read_fd)
            self._read_fd = None
            if self._pid is not None:
                _wait(self._pid)
                self._pid = None
            out = {}
            for name in self.names:
                path = self.scratch / name
                out[name] = path.read_bytes() if path.exists() else self.jobs[name]()
        except BaseException:
            self.abort()  # an error or a signal here: kill the helper, do not wait for it
            raise
        self._remove_scratch()
        return out

    def _remove_scratch(self) -> None:
        if self.scratch.is_dir():
            for path in self.scratch.iterdir():
                path.unlink(missing_ok=True)
            self.scratch.rmdir()
