"""What a run tells its user while it works: stage lines, and live progress bars on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_bar"]


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def format_bar(label: str, done: int, total: int, elapsed: float, width: int = 24) -> str:
    """One progress-bar line: label, bar, percentage, count, rate and time left.

    Parameters
    ----------
    label : str
    done, total : int
        Units completed and expected (``total > 0``).
    elapsed : float
        Seconds since the task started.
    width : int
        Characters of the bar.

    Returns
    -------
    str
        e.g. ``"  draws [######------------------]  25% 100,000/400,000  52.1k/s  ETA 6s"``.
    """
    if total <= 0:
        raise ValueError(f"total must be positive, got {total}")
    fraction = min(max(done / total, 0.0), 1.0)
    filled = int(round(fraction * width))
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate > 0 else float("nan")
    rate_text = f"{rate / 1e3:.1f}k/s" if rate >= 1e3 else f"{rate:.1f}/s"
    eta = _duration(left) if left == left else "?"
    return (f"  {label} [{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%} {done:,}/{total:,}  "
            f"{rate_text}  ETA {eta}")


class Progress:
    """Stage messages on stderr; live bars only when it is a terminal; nothing when quiet.

    Parameters
    ----------
    quiet : bool
        Print nothing at all.
    stream : file-like, optional
        Where to write (default ``sys.stderr``, looked up at each write).
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self._stream = stream
        self._start = time.perf_counter()
        self._tasks: dict[str, float] = {}
        self._last: dict[str, float] = {}

    @property
    def stream(self) -> TextIO:
        """The output stream."""
        return self._stream if self._stream is not None else sys.stderr

    def live(self) -> bool:
        """Whether live (carriage-return) bars are drawn: not quiet and the stream is a terminal."""
        isatty = getattr(self.stream, "isatty", None)
        return not self.quiet and bool(isatty and isatty())

    def stage(self, message: str) -> None:
        """Announce a stage (one line with the elapsed time)."""
        if not self.quiet:
            print(f"[{time.perf_counter() - self._start:6.1f}s] {message}", file=self.stream, flush=True)

    def update(self, label: str, done: int, total: int) -> None:
        """Report progress of the task ``label`` (a bar redrawn at most 10 times a second, on a terminal).

        Parameters
        ----------
        label : str
            Task name ("draws", "growth fit", "sensitivity").
        done, total : int
        """
        if not self.live() or total <= 0:
            return
        now = time.perf_counter()
        start = self._tasks.setdefault(label, now)
        finished = done >= total
        if not finished and now - self._last.get(label, 0.0) < 0.1:
            return
        self._last[label] = now
        line = format_bar(label, done, total, now - start)
        print("\r" + line, end="\n" if finished else "", file=self.stream, flush=True)
        if finished:
            self._tasks.pop(label, None)
            self._last.pop(label, None)

    def draws(self, done: int, total: int) -> None:
        """Report Monte Carlo progress (the engine's callback)."""
        self.update("draws", done, total)

    def finished(self, report_path) -> None:
        """Last line of a run: where the report is."""
        if not self.quiet:
            print(f"report: {report_path}", file=self.stream, flush=True)
