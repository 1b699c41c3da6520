"""The result of a run: one xarray DataTree with every dataset and table, plus its figures.

Tree layout (group paths):

``/``
    Provenance attributes (seed, config hash, package version, data snapshot, ...).
``/costs``
    Kept cost draws, point estimates and statistics over all draws (model, method).
``/posterior``, ``/sample_stats``, ``/observed_data``, ... (growth)
    ArviZ groups of the growth fit, at the root so ``arviz.from_netcdf`` reads them. Each
    carries the attribute ``fit`` (the ``estimator`` of ``growth.csv`` whose draws it holds) and
    ``headline_fit`` (the estimator the report leads with).
``/sensitivity``, ``/development``
    Sensitivity indices and development-cost draws.
``/tables/<name>``
    Every reported table (``summary``, ``skipped``, ``growth``, ``forecast``, ``tornado``,
    ``sobol``, ``devcost``, ...) as a one-dimensional Dataset (see :mod:`uncertain_cost.tables`);
    the writer makes ``<name>.csv`` of each.
``/figure_data/<name>``
    Arrays that only figures need (posterior trend bands).

``results.nc`` holds every group but ``/tables`` and ``/figure_data`` (those are written as CSV
or drawn as figures).

Each step of a run hands back a :class:`StepOutput` (its groups, figures and notes, in
order); :func:`build_result` collects them into the :class:`RunResult`. Turning a result into
files is :mod:`uncertain_cost.writer`'s job and into a report :mod:`uncertain_cost.reporting`'s;
:meth:`RunResult.write` and :meth:`RunResult.report` only delegate to them (imported inside
those methods, the one arrow up from this module, kept because they are public API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from uncertain_cost.tables import dataset_to_records, records_to_dataset

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["RunResult", "StepOutput", "build_result", "TABLES", "FIGURE_DATA"]

#: subtree of reported tables, and of figure-only arrays (neither goes into results.nc)
TABLES = "tables"
FIGURE_DATA = "figure_data"


@dataclass
class StepOutput:
    """What one step of a run adds to its result.

    Attributes
    ----------
    groups : dict of str to xarray.Dataset
        Tree path -> dataset, in the order added (tables under ``tables/<name>``).
    figures : dict of str to matplotlib.figure.Figure
        PNG file name -> figure.
    notes : list of str
    """

    groups: dict[str, xr.Dataset] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: PNG bytes of some of `figures`, rendered already (by a forked child with time to spare)
    pngs: dict[str, bytes] = field(default_factory=dict)

    def add_table(self, name: str, records: list[dict], columns: tuple[str, ...],
                  attrs: dict | None = None) -> None:
        """Add table ``name`` (written as ``<name>.csv``)."""
        self.groups[f"{TABLES}/{name}"] = records_to_dataset(name, records, columns, attrs)

    def add_figure_data(self, name: str, ds: xr.Dataset) -> None:
        """Add arrays that only a figure needs (not written to results.nc)."""
        self.groups[f"{FIGURE_DATA}/{name}"] = ds

    def records(self, name: str) -> list[dict]:
        """Rows of table ``name`` of this step ([] when absent)."""
        ds = self.groups.get(f"{TABLES}/{name}")
        return dataset_to_records(ds)[0] if ds is not None else []


def build_result(attrs: Mapping[str, Any], outputs: Sequence[StepOutput], config: Any = None) -> RunResult:
    """Collect the outputs of a run's steps, in order, into its :class:`RunResult`.

    Parameters
    ----------
    attrs : mapping
        Provenance attributes of the tree's root.
    outputs : sequence of StepOutput
        In step order (a later group or figure of the same name replaces an earlier one).
    config : uncertain_cost.config.Config, optional

    Returns
    -------
    RunResult
    """
    groups: dict[str, xr.Dataset] = {}
    figures: dict[str, Any] = {}
    notes: list[str] = []
    pngs: dict[str, bytes] = {}
    for out in outputs:
        groups.update(out.groups)
        figures.update(out.figures)
        notes.extend(out.notes)
        pngs = {name: png for name, png in pngs.items() if name not in out.figures}  # a replaced figure
        pngs.update(out.pngs)
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs=dict(attrs)), **{f"/{k}": v for k, v in groups.items()}})
    result = RunResult(tree=tree, notes=tuple(notes), figures=figures, config=config)
    result.keep_pngs(pngs)
    return result


@dataclass(frozen=True)
class RunResult:
    """Everything a run computed.

    Attributes
    ----------
    tree : xarray.DataTree
        Every dataset and table of the run (layout in the module docstring).
    notes : tuple of str
        What a reader should know (models skipped, imputed, fit diagnostics).
    figures : mapping of str to matplotlib.figure.Figure
        PNG file name -> figure, drawn from the tree's data.
    config : uncertain_cost.config.Config
        The validated config the run used.
    """

    tree: xr.DataTree
    notes: tuple[str, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)
    config: Any = None
    _png_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        """At most 15 lines: models and methods, the headline cost and growth, where the tables are."""
        from uncertain_cost.reporting.overview import overview_lines

        return "\n".join(overview_lines(self))

    def _repr_html_(self) -> str:
        """Render the same overview as HTML, for Jupyter."""
        from uncertain_cost.reporting.overview import overview_html

        return overview_html(self)

    def png(self, name: str) -> bytes:
        """PNG bytes of figure ``name``: rendered once, then reused by the file and the report.

        Parameters
        ----------
        name : str
            A key of `figures` (``"growth_trend.png"``, ...).

        Returns
        -------
        bytes
            The figure at 120 dpi, tight bounding box, no software metadata
            (`uncertain_cost.reporting.figures.figure_png`).
        """
        if name not in self._png_cache:
            from uncertain_cost.reporting.figures import figure_png  # matplotlib only when a PNG is asked for

            self._png_cache[name] = figure_png(self.figures[name])
        return self._png_cache[name]

    def unrendered_figures(self) -> list[str]:
        """Names of the figures whose PNG has not been rendered yet, in `figures` order.

        Returns
        -------
        list of str
        """
        return [name for name in self.figures if name not in self._png_cache]

    def keep_pngs(self, pngs: dict[str, bytes]) -> None:
        """Keep PNG bytes rendered elsewhere (`uncertain_cost.reporting.render`) for `png`.

        Parameters
        ----------
        pngs : dict of str to bytes
            ``{figure name: PNG bytes}``; every name must be a key of `figures`.
        """
        unknown = sorted(set(pngs) - set(self.figures))
        if unknown:
            raise KeyError(f"not figures of this run: {unknown}")
        self._png_cache.update(pngs)

    @property
    def provenance(self) -> dict[str, Any]:
        """Seed, config hash, package version, data snapshot, reference month, draws."""
        return dict(self.tree.attrs)

    def table_names(self) -> tuple[str, ...]:
        """Names of the tables in the tree (``summary``, ``growth``, ...), in run order."""
        if TABLES not in self.tree.children:
            return ()
        return tuple(self.tree[TABLES].children)

    def has_table(self, name: str) -> bool:
        """Whether the run produced table ``name``."""
        return name in self.table_names()

    def records(self, name: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """Rows (dicts) and column order of table ``name``.

        Raises
        ------
        KeyError
            If the run has no such table.
        """
        if not self.has_table(name):
            raise KeyError(f"no table {name!r} in this run; tables: {', '.join(self.table_names())}")
        return dataset_to_records(self.tree[f"{TABLES}/{name}"].to_dataset())

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` as a pandas DataFrame with the CSV file's columns."""
        import pandas as pd

        rows, columns = self.records(name)
        return pd.DataFrame(rows, columns=list(columns))

    def summary(self) -> pd.DataFrame:
        """One row per (model, method): the columns of ``summary.csv``."""
        return self.table("summary")

    def group(self, path: str) -> xr.Dataset | None:
        """Dataset at tree path ``path`` (``"costs"``, ``"sensitivity"``), or None when absent."""
        try:
            return self.tree[path].to_dataset()
        except KeyError:
            return None

    def report(self, html: bool = False) -> str:
        """Compose the run report as Markdown (or, with ``html=True``, a self-contained HTML page)."""
        from uncertain_cost.reporting.report import html_report, markdown_report  # public API: delegates up

        return html_report(self) if html else markdown_report(self)

    def write(self, destination: str | Path, *, force: bool = False) -> Path:
        """Write the run folder the CLI writes (CSV/JSON, results.nc, figures, report).

        Parameters
        ----------
        destination : str or pathlib.Path
        force : bool, default False
            Replace a folder that is not a previous run folder of this tool.

        Returns
        -------
        pathlib.Path
            The completed folder.
        """
        from uncertain_cost.writer import write_result  # public API, as xarray's to_netcdf: delegates to I/O

        return write_result(destination, self, force=force)
