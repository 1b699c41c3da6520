"""The only module that writes files: CSV/JSON tables, NetCDF, PNG figures, Markdown/HTML.

A run folder is written under a temporary name beside its destination and renamed into
place only when everything in it is complete, so a failed run never leaves a half-written
folder and never destroys the previous one.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

__all__ = ["RunFolder", "write_csv", "write_json", "write_netcdf", "save_figure", "write_run"]


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


def write_netcdf(path: Path, groups: Mapping[str, xr.Dataset], attrs: Mapping[str, Any]) -> None:
    """Write an xarray DataTree with one group per entry of ``groups``.

    Parameters
    ----------
    path : pathlib.Path
    groups : mapping of str to xarray.Dataset
        ``{"costs": ds, "posterior": ds, ...}``; ArviZ groups (``posterior``,
        ``posterior_predictive``, ``sample_stats``, ``observed_data``) stay at the root so
        ``arviz.from_netcdf`` reads them.
    attrs : mapping
        Provenance written on the root.
    """
    root = xr.Dataset(attrs=dict(attrs))
    tree = xr.DataTree.from_dict({"/": root, **{f"/{k}": v for k, v in groups.items()}})
    encoding = {
        f"/{name}": {var: {"zlib": True, "complevel": 4} for var in ds.data_vars if ds[var].dtype.kind == "f"}
        for name, ds in groups.items()
    }
    tree.to_netcdf(path, engine="h5netcdf", encoding=encoding)


def save_figure(fig, path: Path, dpi: int = 120) -> None:
    """Save a matplotlib figure as PNG and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


class RunFolder:
    """Context manager that builds a run folder atomically.

    Files are written into a temporary sibling folder (``path``) and the folder is renamed
    to ``destination`` on success. If ``destination`` already exists it is replaced only
    after the new one is complete. On an exception the temporary folder is removed.

    Parameters
    ----------
    destination : str or pathlib.Path

    Examples
    --------
    >>> with RunFolder(out) as folder:  # doctest: +SKIP
    ...     write_csv(folder.path / "summary.csv", rows, columns)
    """

    def __init__(self, destination: str | Path):
        self.destination = Path(destination).resolve()
        self.path: Path | None = None

    def __enter__(self) -> RunFolder:
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.partial-", dir=self.destination.parent))
        return self

    def file(self, name: str) -> Path:
        """Path of a file inside the folder being written."""
        assert self.path is not None, "RunFolder used outside its with-block"
        return self.path / name

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self.path is not None
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        os.chmod(self.path, 0o755)
        if self.destination.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.old-", dir=self.destination.parent))
            os.rmdir(old)
            os.replace(self.destination, old)
            os.replace(self.path, self.destination)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.path, self.destination)
        return False


def write_run(destination: str | Path, result) -> Path:
    """Write every table, dataset, figure and document of a run into ``destination`` atomically.

    Parameters
    ----------
    destination : str or pathlib.Path
    result : uncertain_cost.result.RunResult

    Returns
    -------
    pathlib.Path
        The completed folder.
    """
    from uncertain_cost.narrative import html_report, markdown_report
    from uncertain_cost.result import FIGURE_DATA, TABLES
    from uncertain_cost.results import method_counts

    attrs = result.provenance
    flags = result.config.section("report") if result.config is not None else {}
    groups = {name: node.to_dataset() for name, node in result.tree.children.items()
              if name not in (TABLES, FIGURE_DATA)}
    with RunFolder(destination) as folder:
        for name in result.table_names():
            rows, columns = result.records(name)
            write_csv(folder.file(f"{name}.csv"), rows, columns)
            if name == "summary":
                write_json(folder.file("summary.json"),
                           {"provenance": attrs, "counts": method_counts(rows), "rows": rows})
        if groups:
            write_netcdf(folder.file("results.nc"), groups, attrs)
        for name, fig in result.figures.items():
            save_figure(fig, folder.file(name))
        text = markdown_report(result)
        if flags.get("markdown", True):
            folder.file("report.md").write_text(text, encoding="utf-8")
        if flags.get("html", True):
            folder.file("report.html").write_text(html_report(text), encoding="utf-8")
        write_json(folder.file("provenance.json"), attrs)
    return folder.destination
