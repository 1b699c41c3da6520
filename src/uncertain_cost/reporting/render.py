"""Render a run's figures to PNG files, sharing the work with one forked helper process.

Matplotlib draws in Python with the GIL held, so threads do not help: about 0.15-0.4 s a
figure, 3-4 s for the twenty figures of the default run, most of the writing stage. On Linux
with two or more usable cores, `PngRendering` forks one helper when it starts; the helper
renders figures while the caller writes the tables and ``results.nc``, and the caller joins in
when it is done. The figures are dealt out through a pipe, a few bytes a figure (reads of at
most ``PIPE_BUF`` bytes are atomic, so each figure goes to exactly one process).

Each process writes its figures as files into a scratch folder; the caller then takes every
file the helper finished and renders any it did not (a helper that died or failed costs time,
never a figure). The bytes do not depend on which process drew them: both hold the same figure
objects, fonts and settings from before the fork. Without ``fork`` (Windows, macOS) or with one
usable core, everything is rendered in the calling process.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from uncertain_cost.forking import die_with_parent, fork_allowed

__all__ = ["PngRendering"]

_TOKEN = struct.Struct("<I")
_PART = ".part"


class PngRendering:
    """PNG files of named figures, rendered by the caller and (where allowed) one forked helper.

    Parameters
    ----------
    names : sequence of str
        File names of the figures, in the order they are dealt out.
    render : callable
        ``render(name) -> bytes``: the PNG bytes of one figure.
    scratch : pathlib.Path
        An empty folder (created) for the rendered files.
    helper : bool, optional
        Fork a helper; default `uncertain_cost.forking.fork_allowed` (the helper starts no
        parallel numba work, so any threading layer is safe).

    Notes
    -----
    Use as ``rendering = PngRendering(...).start()``, write other files, then
    ``rendering.finish()`` for ``{name: bytes}`` of every figure.
    """

    def __init__(self, names: Sequence[str], render: Callable[[str], bytes], scratch: Path,
                 helper: bool | None = None):
        self.names = list(names)
        self.render = render
        self.scratch = Path(scratch)
        self.helper = fork_allowed() if helper is None else bool(helper)
        self._read_fd: int | None = None
        self._pid: int | None = None

    def start(self) -> PngRendering:
        """Deal out the figures and fork the helper (when allowed and there are at least two).

        Returns
        -------
        PngRendering
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
            if pid == 0:  # the helper: render until the pipe is empty, then leave without cleanup
                os.close(write_fd)
                die_with_parent()
                code = 0
                try:
                    self._drain()
                except BaseException:  # noqa: BLE001 - the caller renders what is missing
                    code = 1
                finally:
                    os._exit(code)
            self._pid = pid
        os.close(write_fd)
        return self

    def _drain(self) -> None:
        """Take figures from the pipe and write each one as a file, until none is left."""
        while True:
            token = os.read(self._read_fd, _TOKEN.size)
            if len(token) < _TOKEN.size:
                return
            name = self.names[_TOKEN.unpack(token)[0]]
            part = self.scratch / (name + _PART)
            part.write_bytes(self.render(name))
            part.replace(self.scratch / name)

    def finish(self) -> dict[str, bytes]:
        """Render what is left in the calling process, wait for the helper, return every figure's PNG.

        Returns
        -------
        dict of str to bytes
            ``{name: png}`` in the order of `names`.
        """
        if self._read_fd is None:
            self.start()
        try:
            self._drain()
        finally:
            os.close(self._read_fd)
            self._read_fd = None
            if self._pid is not None:
                os.waitpid(self._pid, 0)
                self._pid = None
        out = {}
        for name in self.names:
            path = self.scratch / name
            out[name] = path.read_bytes() if path.exists() else self.render(name)
            path.unlink(missing_ok=True)
            (self.scratch / (name + _PART)).unlink(missing_ok=True)
        self.scratch.rmdir()
        return out
