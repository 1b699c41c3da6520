"""What a run tells its user while it works: stage lines, and tqdm progress bars on a terminal or in a notebook.

Bars are drawn with tqdm (``tqdm.auto``'s widget in a Jupyter notebook when ipywidgets is
installed, the text bar otherwise) and only when the output is live: a terminal, or a
notebook. Piped output gets the stage lines only (no carriage returns); ``quiet`` prints
nothing.

Code deep inside a run (the NUTS sampler, Dask's gather) reaches the run's :class:`Progress`
through :func:`current` without it being passed down: :meth:`Progress.activate` makes it
current for the duration of a run.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["Progress", "current", "in_notebook"]

_CURRENT: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("uncertain_cost_progress", default=None)


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter kernel (where progress is shown by default)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ipython = shell.get_ipython()
    except AttributeError:
        return False
    return ipython is not None and type(ipython).__name__ == "ZMQInteractiveShell"


def _tqdm_class(stream: TextIO | None):
    """``tqdm.auto.tqdm`` in a notebook with ipywidgets on stderr, else the text bar."""
    if stream is None and in_notebook():
        import importlib.util

        if importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.auto import tqdm

            return tqdm
    from tqdm.std import tqdm

    return tqdm


def _size(stream) -> tuple[int, int]:
    """Columns and rows of the terminal behind ``stream`` (0 when unknown, e.g. a pty without a size)."""
    import os

    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return 0, 0
    return size.columns, size.lines


class _NoBar:
    """Stands in for a bar when nothing is shown."""

    n = 0

    def update(self, n: float = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


class Progress:
    """Stage messages on stderr; tqdm bars when the output is live; nothing when quiet.

    Parameters
    ----------
    quiet : bool
        Print nothing at all.
    stream : file-like, optional
        Where to write (default ``sys.stderr``, looked up at each write).
    live : bool, optional
        Force bars on or off (default: on for a terminal or a Jupyter notebook).
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, live: bool | None = None):
        self.quiet = quiet
        self._stream = stream
        self._live = live
        self._start = time.perf_counter()
        self._stage_time = time.time()
        self._bars: dict[str, Any] = {}

    @property
    def stream(self) -> TextIO:
        """The output stream."""
        return self._stream if self._stream is not None else sys.stderr

    def live(self) -> bool:
        """Whether bars are drawn: not quiet, and a terminal or a notebook (or forced with ``live``)."""
        if self.quiet:
            return False
        if self._live is not None:
            return self._live
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty()) or (self._stream is None and in_notebook())

    def stage(self, message: str) -> None:
        """Announce a stage (one line with the elapsed time); the next bar's clock starts here."""
        self._stage_time = time.time()
        if not self.quiet:
            print(f"[{time.perf_counter() - self._start:6.1f}s] {message}", file=self.stream, flush=True)

    def bar(self, label: str, total: float, unit: str = "it", started: float | None = None):
        """Open a bar of ``total`` units (a do-nothing stand-in when output is not live).

        Parameters
        ----------
        label : str
        total : float
        unit : str
        started : float, optional
            ``time.time()`` the task started (default now), so that the rate and ETA count the
            time before the first update.

        Returns
        -------
        tqdm.tqdm or a stand-in with ``update(n)``, ``n`` and ``close()``
        """
        if not self.live() or total <= 0:
            return _NoBar()
        stream = self._stream if self._stream is not None else sys.stderr
        width, height = _size(stream)  # a terminal of unknown size (0 x 0): 100 columns, 24 rows
        bar = _tqdm_class(self._stream)(total=total, desc=f"  {label}", unit=unit, unit_scale=True, file=stream,
                                        dynamic_ncols=width > 0, ncols=None if width > 0 else 100,
                                        nrows=height or 24, mininterval=0.1, leave=True, smoothing=0.1)
        if started is not None:
            bar.start_t = bar.last_print_t = started
        return bar

    @contextlib.contextmanager
    def task(self, label: str, total: float, unit: str = "it") -> Iterator[Any]:
        """Open a bar for the duration of a ``with`` block (closed, complete or not, at its end)."""
        bar = self.bar(label, total, unit)
        try:
            yield bar
        finally:
            bar.close()

    def update(self, label: str, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` units of task ``label`` are complete (its bar closes at the end).

        The bar's clock starts at the last :meth:`stage` line, so the rate and time left are right
        even when the first report comes after the first chunk of work.
        """
        if not self.live() or total <= 0:
            return
        bar = self._bars.get(label)
        if bar is None:
            bar = self._bars[label] = self.bar(label, total, "draws" if label == "draws" else "it",
                                               started=self._stage_time)
        bar.update(max(0, done - bar.n))
        if done >= total:
            bar.close()
            self._bars.pop(label, None)

    def draws(self, done: int, total: int) -> None:
        """Report Monte Carlo progress (the engine's callback)."""
        self.update("draws", done, total)

    def finished(self, report_path) -> None:
        """Last line of a run on stderr: where the report is."""
        if not self.quiet:
            print(f"report: {report_path}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def activate(self) -> Iterator[Progress]:
        """Make this the run's current Progress (:func:`current`) inside a ``with`` block."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()


def current() -> Progress:
    """Return the Progress of the run in progress (a quiet one outside a run)."""
    active = _CURRENT.get()
    return active if active is not None else Progress(quiet=True)
