"""Correlate input draws with a Gaussian copula on their standard-normal scores.

The ``[correlations]`` table states rank (Spearman) correlations between pairs of inputs::

    [correlations]
    pairs = [["gpu_price", "cloud_price", 0.6]]

Both inputs of a pair must have the same scope (and, for ``per_chip``, the same
``chip_key``), so that their columns line up one to one: the price multiplier of chip
``c`` is correlated with the cloud multiplier of the same chip ``c``; two ``per_model``
inputs are correlated model by model.

Method (Gaussian copula). Each value is mapped to its standard-normal score
``z = ndtri(F(x))``, the scores of a correlated set of inputs are mixed row by row,
``z' = L z`` with ``L`` the Cholesky factor of the normal-score correlation matrix
``R``, and mapped back ``x' = F^-1(ndtr(z'))``. Each ``z'`` is again standard normal, so
every marginal keeps exactly its stated distribution (the first input of each set keeps
its very draws, up to rounding). For a Gaussian copula the rank correlation ``rho_s``
and the normal-score correlation ``r`` are linked by ``r = 2 sin(pi rho_s / 6)``;
requested ``rho_s`` are converted that way, so the draws reach the requested Spearman
correlation. A matrix that is not positive definite is replaced by the nearest
correlation matrix (Higham 2002) with a warning naming the pairs.

The transform is row-local and its sums run in a fixed order in plain NumPy elementwise
operations, so a draw does not depend on the chunking, the block truncation or the thread
count.

References
----------
Higham, N. J. (2002). Computing the nearest correlation matrix: a problem from finance.
IMA Journal of Numerical Analysis 22(3), 329-343. doi:10.1093/imanum/22.3.329
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from uncertain_cost.config.schema import register_stage
from uncertain_cost.errors import ConfigError, UncertainCostWarning

__all__ = ["Correlations", "parse_correlations", "attach_correlations", "apply_correlations",
           "nearest_correlation", "spearman_to_normal"]

#: scores are computed from probabilities clipped to (EPS, 1 - EPS), |z| <= 8.2
_EPS = 2.0**-53


def spearman_to_normal(rho_s):
    """Normal-score correlation of a Gaussian copula with rank correlation ``rho_s``.

    Parameters
    ----------
    rho_s : float or ndarray
        Spearman rank correlation(s) in [-1, 1].

    Returns
    -------
    float or ndarray
        ``2 sin(pi rho_s / 6)``.
    """
    return 2.0 * np.sin(np.pi * np.asarray(rho_s, dtype=np.float64) / 6.0)


def nearest_correlation(matrix: np.ndarray, *, tol: float = 1e-12, max_iter: int = 1000,
                        min_eigenvalue: float = 1e-8) -> np.ndarray:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002, with Dykstra's correction).

    Parameters
    ----------
    matrix : ndarray, shape (k, k)
        Symmetric matrix with unit diagonal.
    tol : float
        Stop when successive iterates differ by less than this (max abs).
    max_iter : int
    min_eigenvalue : float
        The result's eigenvalues are at least about this, so that a Cholesky factor exists.

    Returns
    -------
    ndarray, shape (k, k)
        Symmetric, unit diagonal, positive definite.
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix: expected a square matrix, got shape {a.shape}")
    y = a.copy()
    delta = np.zeros_like(a)
    for _ in range(max_iter):
        r = y - delta
        w, v = np.linalg.eigh((r + r.T) / 2.0)
        x = (v * np.maximum(w, min_eigenvalue)) @ v.T
        delta = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        if np.max(np.abs(y_new - y)) < tol:
            y = y_new
            break
        y = y_new
    y = (y + y.T) / 2.0
    # make sure a Cholesky factor exists after the unit-diagonal projection
    w = np.linalg.eigvalsh(y)
    if w.min() < min_eigenvalue:
        w, v = np.linalg.eigh(y)
        y = (v * np.maximum(w, min_eigenvalue)) @ v.T
        d = np.sqrt(np.diag(y))
        y = y / np.outer(d, d)
    return y


@dataclass(frozen=True)
class Correlations:
    """Requested rank correlations and the normal-score matrix the copula uses.

    Attributes
    ----------
    pairs : tuple of (str, str, float)
        The pairs as configured (rank correlations).
    names : tuple of str
        Inputs taking part, in order of first appearance.
    spearman : ndarray, shape (k, k)
        Requested rank correlations (identity where no pair is given).
    normal : ndarray, shape (k, k)
        Normal-score correlations ``2 sin(pi rho_s / 6)``, repaired to the nearest
        positive definite correlation matrix when needed.
    repaired : bool
        Whether ``normal`` was repaired.
    """

    pairs: tuple[tuple[str, str, float], ...]
    names: tuple[str, ...]
    spearman: np.ndarray = field(repr=False)
    normal: np.ndarray = field(repr=False)
    repaired: bool = False

    def __post_init__(self) -> None:
        for name in ("spearman", "normal"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def clusters(self) -> list[tuple[str, ...]]:
        """Return the sets of inputs linked by nonzero correlations (connected components, size >= 2)."""
        k = len(self.names)
        seen = [False] * k
        out = []
        for start in range(k):
            if seen[start]:
                continue
            stack, members = [start], []
            seen[start] = True
            while stack:
                i = stack.pop()
                members.append(i)
                for j in range(k):
                    if not seen[j] and self.normal[i, j] != 0.0:
                        seen[j] = True
                        stack.append(j)
            if len(members) > 1:
                out.append(tuple(self.names[i] for i in sorted(members)))
        return out


def parse_correlations(table: Mapping[str, Any], inputs, source: str | None = None) -> Correlations | None:
    """Validate a ``[correlations]`` table against an input set.

    Parameters
    ----------
    table : mapping
        ``{"pairs": [[name_a, name_b, rho], ...]}``; empty means no correlations.
    inputs : InputSet
    source : str, optional
        File name for error messages.

    Returns
    -------
    Correlations or None
        None when no pair is given.

    Raises
    ------
    ConfigError
        Unknown keys or inputs, a malformed pair, ``|rho| > 1``, a pair of an input with
        itself, conflicting repeats, inputs of different scopes or chip keys, constant inputs.
    """
    if not isinstance(table, Mapping):
        raise ConfigError("correlations", f"expected a table [correlations], got {table!r}", source)
    unknown = sorted(set(table) - {"pairs"})
    if unknown:
        raise ConfigError(f"correlations.{unknown[0]}", "unknown key; valid keys: pairs", source)
    raw = table.get("pairs", [])
    if not isinstance(raw, list):
        raise ConfigError("correlations.pairs", f"expected a list of [input, input, rho], got {raw!r}", source)
    valid = ", ".join(inputs.names)
    pairs: list[tuple[str, str, float]] = []
    given: dict[frozenset, float] = {}
    for n, pair in enumerate(raw):
        where = f"correlations.pairs[{n}]"
        if (not isinstance(pair, list) or len(pair) != 3 or not all(isinstance(p, str) for p in pair[:2])
                or isinstance(pair[2], bool) or not isinstance(pair[2], int | float)):
            raise ConfigError(where, f"expected [\"input\", \"input\", rho], got {pair!r}", source)
        a, b, rho = pair[0], pair[1], float(pair[2])
        for name in (a, b):
            if name not in inputs.names:
                raise ConfigError(where, f"unknown input {name!r}; valid inputs: {valid}", source)
        if a == b:
            raise ConfigError(where, f"an input cannot be correlated with itself ({a!r})", source)
        if not np.isfinite(rho) or abs(rho) > 1.0:
            raise ConfigError(where, f"rank correlation must be in [-1, 1], got {pair[2]!r}", source)
        sa, sb = inputs[a], inputs[b]
        if (sa.scope, chip_key_of(sa)) != (sb.scope, chip_key_of(sb)):
            raise ConfigError(
                where,
                f"{a!r} is {_scope_text(sa)} but {b!r} is {_scope_text(sb)}; correlated inputs need the same "
                "scope (and chip_key) so that their draws line up",
                source,
            )
        for spec in (sa, sb):
            if spec.distribution.is_constant:
                raise ConfigError(where, f"input {spec.name!r} is a constant; it cannot be correlated", source)
        key = frozenset((a, b))
        if key in given and given[key] != rho:
            raise ConfigError(where, f"pair ({a!r}, {b!r}) given twice with different values", source)
        given[key] = rho
        pairs.append((a, b, rho))
    if not pairs:
        return None
    names: list[str] = []
    for a, b, _ in pairs:
        for name in (a, b):
            if name not in names:
                names.append(name)
    k = len(names)
    spearman = np.eye(k)
    for a, b, rho in pairs:
        i, j = names.index(a), names.index(b)
        spearman[i, j] = spearman[j, i] = rho
    normal = spearman_to_normal(spearman)
    np.fill_diagonal(normal, 1.0)
    repaired = False
    if np.linalg.eigvalsh(normal).min() < 1e-8:
        fixed = nearest_correlation(normal)
        repaired = True
        changes = ", ".join(
            f"{a}~{b} {rho:g}->{float(_normal_to_spearman(fixed[names.index(a), names.index(b)])):.3f}"
            for a, b, rho in pairs
        )
        warnings.warn(
            f"{source or '<config>'}: correlations: the requested matrix is not positive definite; "
            f"using the nearest valid one (rank correlations {changes})",
            UncertainCostWarning,
            stacklevel=2,
        )
        normal = fixed
    return Correlations(tuple(pairs), tuple(names), spearman, normal, repaired)


def _normal_to_spearman(r):
    return 6.0 / np.pi * np.arcsin(np.clip(np.asarray(r) / 2.0, -1.0, 1.0))


def chip_key_of(spec) -> str | None:
    """Return the ``chip_key`` of a per-chip input spec (None for other scopes)."""
    return getattr(spec, "chip_key", None) if spec.scope == "per_chip" else None


def _scope_text(spec) -> str:
    key = chip_key_of(spec)
    return f"{spec.scope} (chip_key {key})" if key else spec.scope


def attach_correlations(inputs, table: Mapping[str, Any] | None, source: str | None = None):
    """Return ``inputs`` carrying the validated correlations of ``table`` (unchanged when empty).

    Parameters
    ----------
    inputs : InputSet
    table : mapping or None
        The config's ``[correlations]`` table.
    source : str, optional

    Returns
    -------
    InputSet
    """
    corr = parse_correlations(table or {}, inputs, source)
    return replace(inputs, correlations=corr)


def apply_correlations(values: np.ndarray, lay) -> None:
    """Correlate the draws of a value matrix in place (no-op without correlations).

    Parameters
    ----------
    values : ndarray, shape (n_rows, lay.n_columns)
        Independent draws laid out as :func:`~uncertain_cost.sampling.design.layout`.
    lay : Layout
        Its ``inputs.correlations`` (a :class:`Correlations` or None) says what to correlate.
        An input of a pair that has since become constant (e.g. held at its central value)
        drops out; the others keep their correlations among themselves.

    Raises
    ------
    ValueError
        When correlated inputs no longer have the same columns (scopes changed).
    """
    corr = getattr(lay.inputs, "correlations", None)
    if corr is None:
        return
    index = {spec.name: i for i, spec in enumerate(lay.inputs)}
    from scipy.special import ndtr, ndtri

    for cluster in corr.clusters():
        members = [n for n in cluster if not lay.inputs[n].distribution.is_constant]
        if len(members) < 2:
            continue
        widths = {len(lay.column_names[index[n]]) for n in members}
        if len(widths) != 1:
            raise ValueError(f"correlated inputs {members} have different column counts {sorted(widths)}")
        pos = [corr.names.index(n) for n in members]
        chol = np.linalg.cholesky(corr.normal[np.ix_(pos, pos)])
        dists = [lay.inputs[n].distribution for n in members]
        starts = [lay.offsets[n] for n in members]
        for j in range(widths.pop()):
            z = [ndtri(np.clip(d.cdf(values[:, s + j]), _EPS, 1.0 - _EPS)) for d, s in zip(dists, starts, strict=True)]
            for i, (d, s) in enumerate(zip(dists, starts, strict=True)):
                if i == 0:
                    continue  # row 0 of L is (1, 0, ...): the first input keeps its draws
                mixed = chol[i, 0] * z[0]
                for m in range(1, i + 1):
                    mixed = mixed + chol[i, m] * z[m]
                values[:, s + j] = d.ppf(ndtr(mixed))


def _parse_section(tables: Mapping[str, Mapping], context: Any) -> Correlations | None:
    return parse_correlations(tables["correlations"], context.inputs, context.source)


register_stage("correlations", ("correlations",), _parse_section, __name__)
