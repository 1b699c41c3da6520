"""The only module that writes files: CSV/JSON tables, NetCDF, PNG figures, Markdown/HTML.

A run folder is written under a temporary name beside its destination and renamed into
place only when everything in it is complete, so a failed run never leaves a half-written
folder and never destroys the previous one.

Safety rules for the destination (``--out``):

- only a previous run folder of this tool holding nothing but the files that run wrote
  (its ``provenance.json`` carries :data:`RUN_FOLDER_MARKER` and lists them under
  :data:`MANIFEST_KEY`), an empty folder or a missing path is replaced; anything else (a
  run folder with a file the user added, a folder of user files, a git clone, a file) is
  refused unless ``force=True``, and even then the old content is kept beside the new
  folder until the new one is complete. The same rule, with its own manifest, guards
  ``import-epoch`` folders (:class:`FolderKind`);
- ``/``, the home folder and any folder containing the working directory are refused
  whatever ``force`` says;
- one run at a time writes into a destination: an exclusive ``flock`` on
  ``.<name>.lock`` beside it, released by the kernel when the process dies;
- wall-clock stamps of ArviZ/PyMC (``created_at``, ``sampling_time``, the
  ``sample_stats`` timing variables) go to ``timing.json``, not ``results.nc``, so
  ``results.nc`` is byte-identical for a seed;
- whoever holds that lock removes the ``.<name>.partial-*`` folders of earlier crashed
  runs (their owners are gone, or they would hold the lock) and restores a previous run
  folder left as ``.<name>.old-*`` by a crash during the final swap.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import xarray as xr

from uncertain_cost.errors import ResourceError
from uncertain_cost.folders import (
    MANIFEST_KEY,
    RUN_FOLDER,
    RUN_FOLDER_FORMAT,
    RUN_FOLDER_MARKER,
    FolderKind,
    OutputLock,
    RunFolder,
    absolute_path,
    check_destination,
    foreign_entries,
    is_run_folder,
    os_reason,
    run_folder_manifest,
)
from uncertain_cost.forking import SharedJobs

__all__ = [
    "RUN_FOLDER_MARKER",
    "MANIFEST_KEY",
    "FolderKind",
    "RUN_FOLDER",
    "RunFolder",
    "run_folder_manifest",
    "foreign_entries",
    "OutputLock",
    "check_destination",
    "is_run_folder",
    "write_run",
    "write_result",
    "write_csv",
    "write_json",
    "write_netcdf",
    "split_timing",
]

def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return "" if value is None else str(value)


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write ``rows`` with exactly ``columns`` (floats at full, round-trip precision)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON (NaN becomes null)."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(_jsonable(payload), handle, indent=2, sort_keys=False)
        handle.write("\n")


#: Attributes ArviZ/PyMC stamp with the wall clock: moved from results.nc to timing.json.
TIMING_ATTRS = ("created_at", "sampling_time")
#: Per-draw timing variables of PyMC's ``sample_stats``: summed into timing.json.
TIMING_VARS = ("perf_counter_diff", "perf_counter_start", "process_time_diff")


def split_timing(groups: Mapping[str, xr.Dataset]) -> tuple[dict[str, xr.Dataset], dict[str, dict]]:
    """Separate wall-clock stamps from the groups so ``results.nc`` is byte-identical for a seed.

    Parameters
    ----------
    groups : mapping of str to xarray.Dataset

    Returns
    -------
    groups : dict of str to xarray.Dataset
        The same groups without :data:`TIMING_ATTRS` and :data:`TIMING_VARS`.
    timing : dict
        ``{group: {"created_at": ..., "sampling_time": ..., "perf_counter_diff_total_s": ...}}``
        for the groups that had any (written to ``timing.json``, outside the identity
        promise).
    """
    clean: dict[str, xr.Dataset] = {}
    timing: dict[str, dict] = {}
    for name, ds in groups.items():
        found = {k: ds.attrs[k] for k in TIMING_ATTRS if k in ds.attrs}
        variables = [v for v in TIMING_VARS if v in ds.data_vars]
        for var in variables:
            if var != "perf_counter_start":
                found[f"{var}_total_s"] = float(ds[var].sum())
        if found or variables:
            ds = ds.drop_vars(variables)
            ds.attrs = {k: v for k, v in ds.attrs.items() if k not in TIMING_ATTRS}
            timing[name] = found
        clean[name] = ds
    return clean, timing


#: MCMC output: zlib (level 4) saved 5-13 % of these (random draws of continuous parameters)
#: against 32-66 % of the Monte Carlo's cost draws, for a quarter of the encoding time.
UNCOMPRESSED_GROUPS = ("posterior", "posterior_predictive", "log_likelihood", "sample_stats", "prior")


def netcdf_bytes(groups: Mapping[str, xr.Dataset], attrs: Mapping[str, Any]) -> bytes:
    """Encode an xarray DataTree with one group per entry of ``groups`` as netCDF-4 bytes.

    Parameters
    ----------
    groups : mapping of str to xarray.Dataset
        ``{"costs": ds, "posterior": ds, ...}``; ArviZ groups (``posterior``,
        ``posterior_predictive``, ``sample_stats``, ``observed_data``) stay at the root so
        ``arviz.from_netcdf`` reads them.
    attrs : mapping
        Provenance written on the root.

    Returns
    -------
    bytes
        Floating-point variables zlib-compressed (level 4), except those of the sampler's
        groups (:data:`UNCOMPRESSED_GROUPS`).
    """
    root = xr.Dataset(attrs=dict(attrs))
    tree = xr.DataTree.from_dict({"/": root, **{f"/{k}": v for k, v in groups.items()}})
    encoding = {
        f"/{name}": {var: {"zlib": True, "complevel": 4} for var in ds.data_vars if ds[var].dtype.kind == "f"}
        for name, ds in groups.items() if name not in UNCOMPRESSED_GROUPS
    }
    # Encoded in memory, then written as plain bytes: an ENOSPC or EIO then surfaces as an
    # ordinary OSError from ``write`` instead of inside the HDF5 library (which, on a full
    # disk, printed pages of traceback and sometimes crashed the interpreter).
    buffer = io.BytesIO()
    tree.to_netcdf(buffer, engine="h5netcdf", encoding=encoding)
    return buffer.getvalue()


def write_netcdf(path: Path, groups: Mapping[str, xr.Dataset], attrs: Mapping[str, Any]) -> None:
    """Write an xarray DataTree with one group per entry of ``groups`` (see `netcdf_bytes`).

    Parameters
    ----------
    path : pathlib.Path
    groups : mapping of str to xarray.Dataset
    attrs : mapping
        Provenance written on the root.
    """
    with open(path, "wb") as handle:
        handle.write(netcdf_bytes(groups, attrs))


def write_result(destination: str | Path, result, force: bool = False) -> Path:
    """Check the destination, hold its lock and write the run folder (`write_run`): what ``uc.write`` does.

    Parameters
    ----------
    destination : str or pathlib.Path
    result : uncertain_cost.result.RunResult
    force : bool, default False
        Replace a folder that is not a previous run folder of this tool.

    Returns
    -------
    pathlib.Path
        The completed folder.
    """
    check_destination(destination, force)
    with OutputLock(destination):
        return write_run(destination, result, force=force)


def write_run(destination: str | Path, result, force: bool = False) -> Path:
    """Write every table, dataset, figure and document of a run into ``destination`` atomically.

    Parameters
    ----------
    destination : str or pathlib.Path
    result : uncertain_cost.result.RunResult
    force : bool
        Replace a destination that is not a previous run folder (see
        :func:`check_destination`).

    Returns
    -------
    pathlib.Path
        The completed folder.

    Raises
    ------
    uncertain_cost.errors.OutputError
        The destination is refused (exit 2).
    uncertain_cost.errors.ResourceError
        An OS error while writing, e.g. a full disk (exit 1); no partial folder is left
        and the previous destination is intact.
    """
    from uncertain_cost.reporting.content import collect
    from uncertain_cost.reporting.report import html_report, markdown_report
    from uncertain_cost.result import FIGURE_DATA, TABLES
    from uncertain_cost.results import method_counts

    attrs = result.provenance
    flags = result.config.section("report") if result.config is not None else {}
    groups = {name: node.to_dataset() for name, node in result.tree.children.items()
              if name not in (TABLES, FIGURE_DATA)}
    try:
        with RunFolder(destination, force=force) as folder:
            # A forked helper encodes results.nc, then renders PNGs, while this process writes the tables.
            groups, timing = split_timing(groups) if groups else ({}, {})
            jobs = {"results.nc": partial(netcdf_bytes, groups, attrs)} if groups else {}
            jobs.update({name: partial(result.png, name) for name in result.unrendered_figures()})
            with SharedJobs(jobs, folder.file(".rendering")) as shared:  # an error kills the helper
                for name in result.table_names():
                    rows, columns = result.records(name)
                    write_csv(folder.file(f"{name}.csv"), rows, columns)
                    if name == "summary":
                        write_json(folder.file("summary.json"),
                                   {"provenance": attrs, "counts": method_counts(rows), "rows": rows})
                made = shared.finish()
            if groups:
                folder.file("results.nc").write_bytes(made.pop("results.nc"))
                if timing:
                    write_json(folder.file("timing.json"), timing)
            result.keep_pngs(made)
            if flags.get("png", True):
                for name in result.figures:
                    folder.file(name).write_bytes(result.png(name))
            content = collect(result)  # the report reads the run once; renderers see only this
            if flags.get("markdown", True):
                folder.file("report.md").write_text(markdown_report(result, content), encoding="utf-8")
            if flags.get("html", True):
                folder.file("report.html").write_text(html_report(result, content), encoding="utf-8")
            write_json(folder.file("provenance.json"), {**attrs, RUN_FOLDER_MARKER: RUN_FOLDER_FORMAT,
                                                        MANIFEST_KEY: folder.manifest("provenance.json")})
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise ResourceError(f"--out {absolute_path(destination)}: cannot write the run folder: "
                            f"{os_reason(exc)}{where}; the previous content is unchanged") from None
    return folder.destination
