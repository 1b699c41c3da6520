"""Tables of records (one CSV file each) as xarray Datasets that round-trip exactly.

A run keeps every table it reports (``summary``, ``growth``, ``forecast``, ...) in its
:class:`~uncertain_cost.result.RunResult` tree as a Dataset with one dimension,
``<name>_row``, and one variable per column, in column order. Column values keep their
Python types on the way back (float, int, bool, str, or ``None`` in a mixed column), so
the CSV and JSON files written from the tree are byte-identical to files written from the
records themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["records_to_dataset", "dataset_to_records", "row_dim"]


def row_dim(name: str) -> str:
    """Dimension name of table ``name`` (``"summary"`` -> ``"summary_row"``)."""
    return f"{name}_row"


def _column_array(values: list[Any]) -> np.ndarray:
    """Make the narrowest array that gives ``values`` back from ``tolist()`` (object when mixed)."""
    kinds = {type(v) for v in values if v is not None}
    has_none = any(v is None for v in values)
    if kinds == {float}:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if not has_none and kinds == {int}:
        return np.array(values, dtype=np.int64)
    if not has_none and kinds == {bool}:
        return np.array(values, dtype=bool)
    if not has_none and kinds == {str}:
        return np.array(values, dtype=str) if values else np.array([], dtype=str)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def records_to_dataset(name: str, records: Sequence[Mapping[str, Any]], columns: Sequence[str],
                       attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Turn records (dicts) with exactly ``columns`` into a one-dimensional Dataset.

    Parameters
    ----------
    name : str
        Table name (``"summary"``); the dimension is ``<name>_row``.
    records : sequence of mapping
        One mapping per row; a missing key is ``None`` (an empty CSV cell).
    columns : sequence of str
        Column order of the table (kept in ``attrs["columns"]``).
    attrs : mapping, optional
        Extra attributes of the Dataset.

    Returns
    -------
    xarray.Dataset
    """
    dim = row_dim(name)
    data = {}
    for column in columns:
        data[column] = (dim, _column_array([record.get(column) for record in records]))
    ds = xr.Dataset(data, attrs={**(attrs or {}), "table": name, "columns": list(columns)})
    return ds


def dataset_to_records(ds: xr.Dataset) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Return the records and column order of a table Dataset made by :func:`records_to_dataset`.

    Parameters
    ----------
    ds : xarray.Dataset

    Returns
    -------
    records : list of dict
        Values as Python scalars (NaN for a missing float).
    columns : tuple of str
    """
    columns = tuple(ds.attrs.get("columns", list(ds.data_vars)))
    lists = {c: ds[c].values.tolist() for c in columns}
    n = ds.sizes.get(row_dim(ds.attrs.get("table", "")), 0)
    return [{c: lists[c][i] for c in columns} for i in range(n)], columns
