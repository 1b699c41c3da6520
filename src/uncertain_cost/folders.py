"""Run and import folders: where a folder may be written, its lock, and its atomic replacement.

The destination rules of :mod:`uncertain_cost.writer` (which writes the files) and of
``import-epoch`` (:mod:`uncertain_cost.data.epoch`), in one place below both:

- only a previous folder of this tool holding nothing but the files it wrote (its marker
  file lists them: ``provenance.json``'s :data:`MANIFEST_KEY` for a run, ``import.toml`` for
  an import; :class:`FolderKind`), an empty folder or a missing path is replaced; anything
  else is refused unless ``force=True``, and then the old content is kept beside the new
  folder as ``<name>.before-force-<n>``, never deleted;
- ``/``, the home folder and any folder containing the working directory are refused
  whatever ``force`` says;
- one writer at a time: an exclusive ``flock`` on ``.<name>.lock`` beside the destination,
  released by the kernel when the process dies;
- a folder is built under ``.<name>.partial-*`` and renamed into place when complete; whoever
  holds the lock removes the partial folders of crashed runs and restores a previous folder
  left as ``.<name>.old-*`` by a crash during the final swap.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from uncertain_cost.errors import OutputError, ResourceError, UncertainCostWarning

__all__ = ["RUN_FOLDER_MARKER", "RUN_FOLDER_FORMAT", "MANIFEST_KEY", "RUN_FILE_SUFFIXES", "FolderKind", "RUN_FOLDER",
           "RunFolder", "run_folder_manifest", "foreign_entries", "OutputLock", "check_destination",
           "is_run_folder", "absolute_path", "os_reason"]

#: Key written into every run folder's ``provenance.json``; its presence is what makes a
#: folder replaceable by a later run without ``--force``.
RUN_FOLDER_MARKER = "uncertain_cost_run_folder"
#: Version of the run-folder layout recorded under :data:`RUN_FOLDER_MARKER`.
RUN_FOLDER_FORMAT = 1
#: Key of ``provenance.json`` listing every file the run wrote (paths relative to the
#: folder); a later run replaces the folder without ``--force`` only when it holds
#: nothing else.
MANIFEST_KEY = "manifest"
#: Suffixes of the files a run writes: in a run folder written before manifests existed,
#: the plain files with one of these count as the run's (anything else as the user's).
RUN_FILE_SUFFIXES = (".csv", ".json", ".nc", ".png", ".md", ".html")
#: Entries of a refusal message listed before "and N more".
MAX_LISTED = 5


def _provenance(path: Path) -> dict | None:
    prov = path / "provenance.json"
    if path.is_symlink() or not prov.is_file():
        return None
    try:
        doc = json.loads(prov.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _plain_files(path: Path) -> tuple[list[str], bool] | None:
    """Names of the plain files directly in ``path``, and whether that is all it holds; None if unreadable."""
    try:
        entries = list(path.iterdir())
    except OSError:
        return None
    plain = [entry.name for entry in entries if entry.is_file() and not entry.is_symlink()]
    return plain, len(plain) == len(entries)


def run_folder_manifest(path: str | Path) -> frozenset[str] | None:
    """Return the files a previous run recorded writing into ``path`` (None: not a run folder).

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    frozenset of str or None
        The :data:`MANIFEST_KEY` list of ``path/provenance.json`` when it carries
        :data:`RUN_FOLDER_MARKER`. In a run folder written before manifests existed (the
        marker without a list, or only ``config_sha256`` and ``package_version`` in a
        folder of plain files) its plain files with a suffix of
        :data:`RUN_FILE_SUFFIXES` count as the run's. None when ``path`` is not a run
        folder.
    """
    path = Path(path)
    doc = _provenance(path)
    if doc is None:
        return None
    listed = doc.get(MANIFEST_KEY)
    if RUN_FOLDER_MARKER in doc and isinstance(listed, list) and all(isinstance(n, str) for n in listed):
        return frozenset(listed)
    if RUN_FOLDER_MARKER not in doc and not ("config_sha256" in doc and "package_version" in doc):
        return None
    found = _plain_files(path)
    if found is None or (RUN_FOLDER_MARKER not in doc and not found[1]):
        return None
    return frozenset(n for n in found[0] if n.endswith(RUN_FILE_SUFFIXES))


def is_run_folder(path: str | Path) -> bool:
    """Whether ``path`` is a run folder written by this tool.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    bool
        True when ``path/provenance.json`` is a JSON object carrying
        :data:`RUN_FOLDER_MARKER`, or (run folders written before the marker existed)
        both ``config_sha256`` and ``package_version`` with nothing but regular files
        beside it. Whether it may be replaced without ``--force`` also depends on its
        manifest (:func:`foreign_entries`).
    """
    return run_folder_manifest(path) is not None


def foreign_entries(path: str | Path, manifest: Iterable[str]) -> list[str]:
    """Entries of the folder ``path`` that its manifest does not list (what the user added).

    Parameters
    ----------
    path : str or pathlib.Path
    manifest : iterable of str
        Relative paths of the files the tool wrote there.

    Returns
    -------
    list of str
        Sorted relative paths of every file, folder or link that is not a listed plain
        file (a folder is named once, not its content).
    """
    path, listed = Path(path), set(manifest)
    out: list[str] = []
    stack = [path]
    while stack:
        for entry in sorted(stack.pop().iterdir()):
            rel = entry.relative_to(path).as_posix()
            if entry.is_symlink() or not (entry.is_file() or entry.is_dir()):
                out.append(rel)
            elif entry.is_dir():
                if any(n.startswith(rel + "/") for n in listed):
                    stack.append(entry)
                else:
                    out.append(rel + "/")
            elif rel not in listed:
                out.append(rel)
    return sorted(out)


@dataclass(frozen=True)
class FolderKind:
    """What kind of folder the atomic writer replaces, and how to read what it wrote.

    Attributes
    ----------
    name : str
        ``"run folder"``, ``"import folder"`` (in messages).
    manifest : callable
        ``manifest(path) -> frozenset of str or None``: the files an earlier write of this
        kind recorded in ``path``; None when ``path`` is not such a folder.
    marker : str
        How such a folder is recognised (in messages), e.g. ``"no provenance.json marker"``.
    """

    name: str
    manifest: Callable[[Path], frozenset[str] | None]
    marker: str

    @property
    def a_name(self) -> str:
        """The name with its indefinite article (``"an import folder"``)."""
        return f"{'an' if self.name[:1] in 'aeiou' else 'a'} {self.name}"


#: The folders ``run`` writes.
RUN_FOLDER = FolderKind("run folder", run_folder_manifest, "no provenance.json marker")


def absolute_path(path: str | Path) -> Path:
    """Absolute, normalised path without resolving a final symlink."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    return path.parent.resolve() / path.name if path.name else path


def os_reason(exc: OSError) -> str:
    """Return the operating system's words for ``exc`` (``strerror``), else its text."""
    return exc.strerror or str(exc)


def _refuse(destination: Path, why: str, force: bool, kind: FolderKind) -> bool:
    """Raise the refusal, or (``force``) return True: the old content is the user's and is kept."""
    if not force:
        raise OutputError(f"--out {destination}: {why}; choose another folder, or pass --force to replace it "
                          f"(its content is then kept beside it as {destination.name}.before-force-*)")
    return True


def check_destination(path: str | Path, force: bool = False, kind: FolderKind = RUN_FOLDER) -> bool:
    """Check, before any work, that a run folder can be written at ``path``.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``--out`` folder.
    force : bool
        Allow replacing something that is not a previous run folder holding only its own
        files (a file, a folder of other files, a run folder with a file added).
    kind : FolderKind, default RUN_FOLDER
        What a previous folder of this tool at ``path`` looks like.

    Raises
    ------
    uncertain_cost.errors.OutputError
        (exit 2) ``path`` is not a previous folder of ``kind`` holding only the files its
        manifest lists and ``force`` is false, or it is ``/``, the home folder, or
        contains the working directory.
    uncertain_cost.errors.ResourceError
        (exit 1) the place is not writable: read-only, under a file, permission denied.

    Returns
    -------
    bool
        True when ``force`` overrode a refusal: ``path`` holds something this tool did not
        write, which :class:`RunFolder` keeps beside the new folder (never deletes).
    """
    destination = absolute_path(path)
    foreign = False
    if destination == Path(destination.anchor) or not destination.name:
        raise OutputError(f"--out {destination}: refusing to write a run folder over the file-system root")
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):
        home = None
    if destination == home:
        raise OutputError(f"--out {destination}: refusing to replace the home folder")
    cwd = Path.cwd().resolve()
    if destination.exists() and (cwd == destination.resolve() or destination.resolve() in cwd.parents):
        raise OutputError(f"--out {destination}: refusing to replace the working directory or a folder containing "
                          "it; give a new or previous run folder")
    if destination.is_symlink():
        foreign = _refuse(destination, f"is a symbolic link, not {kind.a_name}", force, kind)
    elif destination.exists() and not destination.is_dir():
        foreign = _refuse(destination, f"is a file, not {kind.a_name}", force, kind)
    elif destination.is_dir():
        try:
            empty = not any(destination.iterdir())
        except OSError as exc:
            raise ResourceError(f"--out {destination}: cannot list it: {os_reason(exc)}") from None
        manifest = None if empty else kind.manifest(destination)
        if not empty and manifest is None:
            what = "a git repository" if (destination / ".git").exists() else "a folder of other files"
            foreign = _refuse(destination, f"is {what}, not {kind.a_name} of uncertain_cost ({kind.marker})", force,
                              kind)
        elif manifest is not None:
            try:
                extra = foreign_entries(destination, manifest)
            except OSError as exc:
                raise ResourceError(f"--out {destination}: cannot list it: {os_reason(exc)}") from None
            if extra:
                shown = ", ".join(extra[:MAX_LISTED]) + (f" and {len(extra) - MAX_LISTED} more"
                                                         if len(extra) > MAX_LISTED else "")
                foreign = _refuse(destination, f"is {kind.a_name} of uncertain_cost but also holds files it did "
                                  f"not write ({shown})", force, kind)
    ancestor = destination.parent
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise ResourceError(f"--out {destination}: {ancestor} is a broken symbolic link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ResourceError(f"--out {destination}: {ancestor} is a file, a folder cannot be created under it")
    try:
        probe = tempfile.mkdtemp(prefix=f".{destination.name}.probe-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        raise ResourceError(f"--out {destination}: cannot write in {ancestor}: {os_reason(exc)}") from None
    return foreign


class OutputLock:
    """Exclusive, process-lifetime lock on a destination (``.<name>.lock`` beside it).

    Uses ``flock``, so the kernel releases it when the owner dies (even by SIGKILL) and a
    lock file left behind is never mistaken for a live run. Re-entrant within a process:
    the CLI takes it before the pipeline starts and :class:`RunFolder` takes it again.

    Parameters
    ----------
    destination : str or pathlib.Path

    Raises
    ------
    uncertain_cost.errors.OutputError
        When another process holds the lock (a concurrent run into the same folder).
    """

    _held: dict[Path, list] = {}

    def __init__(self, destination: str | Path):
        self.destination = absolute_path(destination)
        self.lock_path = self.destination.parent / f".{self.destination.name}.lock"

    def __enter__(self) -> OutputLock:
        held = OutputLock._held.get(self.lock_path)
        if held is not None:
            held[1] += 1
            return self
        missing = []
        parent = self.destination.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self._created = missing  # removed again on release if the run left them empty
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(
                    f"--out {self.destination}: another uncertain_cost run is writing there "
                    f"(lock {self.lock_path.name} held); wait for it or choose another folder"
                ) from None
            except OSError:
                os.close(fd)
                raise
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous owner unlinked the file as we opened it: retry
        OutputLock._held[self.lock_path] = [fd, 1, self._created]
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # for people; the flock is what counts
            _clean_leftovers(self.destination)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        held = OutputLock._held[self.lock_path]
        held[1] -= 1
        if held[1] == 0:
            del OutputLock._held[self.lock_path]
            try:
                os.unlink(self.lock_path)
            except OSError:
                pass
            os.close(held[0])
            for folder in held[2]:
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty (the run folder is in it) or already gone
        return False


def _leftovers(destination: Path, kind: str) -> list[Path]:
    return sorted(p for p in destination.parent.glob(f".{destination.name}.{kind}-*") if p.is_dir())


def _clean_leftovers(destination: Path) -> None:
    """Remove partial folders of crashed runs; restore a previous folder lost mid-swap.

    Called with the destination's lock held, so no live process owns these folders.
    """
    for partial in _leftovers(destination, "partial"):
        shutil.rmtree(partial, ignore_errors=True)
    olds = _leftovers(destination, "old")
    if olds and not os.path.lexists(destination):
        newest = max(olds, key=lambda p: p.stat().st_mtime)
        os.replace(newest, destination)
        olds.remove(newest)
    for old in olds:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class RunFolder:
    """Context manager that builds a run folder atomically.

    Files are written into a temporary sibling folder (``path``) and the folder is renamed
    to ``destination`` on success. An existing ``destination`` (see
    :func:`check_destination`) is moved aside to ``.<name>.old-*`` only once the new
    folder is complete, and deleted after the new one is in place, unless it holds what this
    tool did not write (replaced with ``force``): then it is kept as
    ``<name>.before-force-<n>`` beside the new folder (``kept`` names it). On an exception the
    temporary folder is removed and the previous destination is untouched. The
    destination's :class:`OutputLock` is held throughout.

    Parameters
    ----------
    destination : str or pathlib.Path
    force : bool
        Passed to :func:`check_destination`.
    kind : FolderKind, default RUN_FOLDER
        Passed to :func:`check_destination`.

    Examples
    --------
    >>> with RunFolder(out) as folder:  # doctest: +SKIP
    ...     write_csv(folder.path / "summary.csv", rows, columns)
    """

    def __init__(self, destination: str | Path, force: bool = False, kind: FolderKind = RUN_FOLDER):
        self.destination = absolute_path(destination)
        self.force = force
        self.kind = kind
        self.path: Path | None = None
        self.kept: Path | None = None
        self._keep_old = False
        self._lock = OutputLock(self.destination)

    def __enter__(self) -> RunFolder:
        self._keep_old = check_destination(self.destination, self.force, self.kind)
        self._lock.__enter__()
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.partial-",
                                              dir=self.destination.parent))
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def file(self, name: str) -> Path:
        """Path of a file inside the folder being written."""
        if self.path is None:
            raise RuntimeError("RunFolder used outside its with-block")
        return self.path / name

    def manifest(self, *also: str) -> list[str]:
        """Relative paths of the files written so far, plus ``also`` (files about to be written), sorted.

        Parameters
        ----------
        *also : str
            Names of files not yet written that the manifest must list (the file that
            records the manifest itself).

        Returns
        -------
        list of str
        """
        if self.path is None:
            raise RuntimeError("RunFolder used outside its with-block")
        files = {p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()}
        return sorted(files | set(also))

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if self.path is None:
                return False
            if exc_type is not None:
                shutil.rmtree(self.path, ignore_errors=True)
                return False
            try:
                self._swap()
            except BaseException:
                shutil.rmtree(self.path, ignore_errors=True)
                raise
            return False
        finally:
            self._lock.__exit__(None, None, None)

    def _swap(self) -> None:
        os.chmod(self.path, 0o755)
        _fsync_tree(self.path)
        if os.path.lexists(self.destination):
            old = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.old-", dir=self.destination.parent))
            os.rmdir(old)
            os.replace(self.destination, old)
            try:
                os.replace(self.path, self.destination)
            except BaseException:
                os.replace(old, self.destination)
                raise
            if self._keep_old:  # the user's content: never deleted, moved beside the new folder
                self.kept = _free_sibling(self.destination, "before-force")
                os.replace(old, self.kept)
                warnings.warn(f"--out {self.destination}: what it held before (not all written by uncertain_cost) "
                              f"is kept as {self.kept}", UncertainCostWarning, stacklevel=2)
            else:
                _remove(old)
        else:
            os.replace(self.path, self.destination)


def _free_sibling(destination: Path, label: str) -> Path:
    """``<name>.<label>-<n>`` beside ``destination``, with the first ``n`` not taken."""
    n = 1
    while os.path.lexists(candidate := destination.with_name(f"{destination.name}.{label}-{n}")):
        n += 1
    return candidate


def _fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` so a crash after the rename cannot expose empty files."""
    for entry in folder.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
