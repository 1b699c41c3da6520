"""The garbage collector around a run: the objects alive before it are left out of its collections.

A run builds many short-lived objects (the growth fits' graphs, figures); every full
collection also walked the ~160,000 objects of the imported libraries, which live as long as
the process: 0.57 s of the default run's 0.7 s of collecting, and 0.5 s more for the last
collection at the interpreter's exit (measured with ``gc.callbacks`` and py-spy). Frozen
(:func:`gc.freeze`) they are skipped, in this process and in the children it forks.

Even then, the default thresholds (a young collection every 700 new objects) made the run's
own objects reach the oldest generation: seven full collections of them took 0.38-0.47 s of
the default run's process. During a run the youngest generation is collected every
`RUN_YOUNG_THRESHOLD` objects instead, and no full collection happens; 0.2 s of collecting
is left (``gc.callbacks``). Cycles are still collected, only later: the run's garbage is
mostly arrays freed by reference counting, which the thresholds do not delay.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

__all__ = ["RUN_YOUNG_THRESHOLD", "older_objects_frozen", "exit_without_collecting"]

#: new objects between two collections of the youngest generation during a run (Python's default: 700)
RUN_YOUNG_THRESHOLD = 10_000

_depth = 0
_thresholds: tuple[int, int, int] | None = None


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Leave the objects alive on entry out of the garbage collections until exit, and collect less often.

    Nested uses freeze and unfreeze once, at the outermost level. Inside, the youngest
    generation is collected every `RUN_YOUNG_THRESHOLD` new objects (unless the caller's
    threshold is higher). On exit everything frozen is collected again as usual and the
    caller's thresholds come back, so a notebook that runs many times keeps no more memory
    than without it.
    """
    global _depth, _thresholds
    if _depth == 0:
        gc.freeze()
        _thresholds = gc.get_threshold()
        young, *older = _thresholds
        if young:  # 0: the caller turned automatic collection off; leave it off
            gc.set_threshold(max(young, RUN_YOUNG_THRESHOLD), *older)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.set_threshold(*_thresholds)
            _thresholds = None
            gc.unfreeze()


def exit_without_collecting(code: int, streams: Sequence | None = None) -> NoReturn:
    """Leave a command-line process with ``code``, without the interpreter's last full collection.

    Every object then dies with the process anyway; freezing them first skips a walk of all
    of them (0.5 s after a default run). The ``atexit`` handlers still run; the files the
    package writes are closed by then (the writer opens each in a ``with`` block).

    Parameters
    ----------
    code : int
        The exit status.
    streams : sequence of file objects, optional
        Flushed first (a broken pipe is ignored: its reader is gone); default the current
        ``sys.stdout`` and ``sys.stderr``.
    """
    for stream in (sys.stdout, sys.stderr) if streams is None else streams:
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone (``| head``) or a closed stream: nothing more to say
            pass
    gc.freeze()
    raise SystemExit(code)
