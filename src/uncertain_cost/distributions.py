"""Small immutable distribution specifications, stated the way forecasters state them.

Every distribution is a frozen dataclass that is validated when it is built and offers
the same five operations: ``ppf`` (inverse CDF, vectorized), ``cdf``, ``sample`` (from a
caller-supplied :class:`numpy.random.Generator`; there is no hidden RNG), ``median`` and
``mean``. ``point`` is the central value used by the deterministic "paper" evaluation:
the distribution's median unless the spec states ``point`` explicitly (the paper's central
values do not always sit at the median of its stated intervals).

Specs come from TOML tables, e.g. ``{dist = "lognormal", ci90 = [0.5, 2.0]}``; see
:func:`from_spec` for every accepted form.
"""

from __future__ import annotations

import csv
import importlib
import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from uncertain_cost.errors import ConfigError, UncertainCostWarning


class _LazyModule:
    """A module imported on first attribute access (scipy.stats alone takes ~1 s to import)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


special = _LazyModule("scipy.special")
stats = _LazyModule("scipy.stats")

__all__ = [
    "Distribution",
    "Constant",
    "LogNormal",
    "Normal",
    "Uniform",
    "LogUniform",
    "Triangular",
    "PERT",
    "Beta",
    "Empirical",
    "Mixture",
    "from_ci",
    "from_spec",
    "DIST_NAMES",
]


def _z(level: float) -> float:
    """Standard-normal quantile bounding a central interval of probability ``level``."""
    return float(special.ndtri(0.5 + level / 2.0))


@dataclass(frozen=True)
class Distribution:
    """Base class: subclasses implement ``ppf``, ``cdf`` and ``mean``."""

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Inverse cumulative distribution function, vectorized over ``u`` in (0, 1)."""
        raise NotImplementedError

    def cdf(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Cumulative distribution function, vectorized."""
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover - abstract
        """Return the expected value."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` independent values using ``rng`` (inverse-CDF sampling).

        Parameters
        ----------
        rng : numpy.random.Generator
            The only source of randomness.
        size : int or tuple of int
            Output shape.

        Returns
        -------
        numpy.ndarray of float64
        """
        return self.ppf(rng.random(size))

    def quantile(self, q: float | np.ndarray) -> float | np.ndarray:
        """Quantile(s) ``q`` in [0, 1]; a scalar in gives a scalar out."""
        out = self.ppf(np.asarray(q, dtype=np.float64))
        return float(out) if np.ndim(out) == 0 else out

    def median(self) -> float:
        """Return the 50 % quantile."""
        return float(self.ppf(np.asarray(0.5)))

    @property
    def central(self) -> float:
        """Central value for point evaluations: ``point`` if stated, else the median."""
        point = getattr(self, "point", None)
        return self.median() if point is None else float(point)

    @property
    def is_constant(self) -> bool:
        """True when every draw is the same number."""
        return False


@dataclass(frozen=True)
class Constant(Distribution):
    """A known value (every draw equals ``value``)."""

    value: float
    point: float | None = None

    def ppf(self, u):
        """Return ``value`` with the shape of ``u``."""
        return np.full(np.shape(u), float(self.value))

    def cdf(self, x):
        """Step function at ``value``."""
        return (np.asarray(x) >= self.value).astype(np.float64)

    def mean(self):
        """Return ``value``."""
        return float(self.value)

    def sample(self, rng, size):
        """Return ``value`` without consuming randomness."""
        return np.full(size, float(self.value))

    @property
    def is_constant(self) -> bool:
        """Always true."""
        return True

    def __repr__(self) -> str:
        return f"Constant({self.value:g})"


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal: ``log(X) ~ Normal(mu, sigma)``; build it with :func:`from_ci`."""

    mu: float
    sigma: float
    point: float | None = None

    def ppf(self, u):
        """Inverse CDF."""
        return np.exp(self.mu + self.sigma * special.ndtri(u))

    def cdf(self, x):
        """CDF (zero for non-positive x)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, special.ndtr((np.log(x) - self.mu) / self.sigma), 0.0)

    def mean(self):
        """Mean ``exp(mu + sigma^2 / 2)``."""
        return math.exp(self.mu + 0.5 * self.sigma**2)

    def sample(self, rng, size):
        """Draw via standard normals (faster than inverse-CDF)."""
        return np.exp(self.mu + self.sigma * rng.standard_normal(size))

    def __repr__(self) -> str:
        lo, hi = self.ppf(np.array([0.05, 0.95]))
        return f"LogNormal(ci90=[{lo:.4g}, {hi:.4g}], median={math.exp(self.mu):.4g})"


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal, optionally truncated to ``[low, high]`` (either bound may be None)."""

    loc: float
    scale: float
    low: float | None = None
    high: float | None = None
    point: float | None = None

    @property
    def _bounds(self) -> tuple[float, float]:
        a = 0.0 if self.low is None else float(special.ndtr((self.low - self.loc) / self.scale))
        b = 1.0 if self.high is None else float(special.ndtr((self.high - self.loc) / self.scale))
        return a, b

    def ppf(self, u):
        """Inverse CDF (of the truncated distribution when bounds are set)."""
        a, b = self._bounds
        u = np.asarray(u, dtype=np.float64)
        out = self.loc + self.scale * special.ndtri(a + u * (b - a))
        if self.low is not None or self.high is not None:
            lo = -np.inf if self.low is None else self.low
            hi = np.inf if self.high is None else self.high
            out = np.clip(out, lo, hi)
        return out

    def cdf(self, x):
        """CDF."""
        a, b = self._bounds
        raw = special.ndtr((np.asarray(x, dtype=np.float64) - self.loc) / self.scale)
        return np.clip((raw - a) / (b - a), 0.0, 1.0)

    def mean(self):
        """Mean (of the truncated distribution when bounds are set)."""
        if self.low is None and self.high is None:
            return float(self.loc)
        lo = -np.inf if self.low is None else (self.low - self.loc) / self.scale
        hi = np.inf if self.high is None else (self.high - self.loc) / self.scale
        return float(stats.truncnorm(lo, hi, loc=self.loc, scale=self.scale).mean())

    def sample(self, rng, size):
        """Draw via standard normals when untruncated, else by inverse CDF."""
        if self.low is None and self.high is None:
            return self.loc + self.scale * rng.standard_normal(size)
        return self.ppf(rng.random(size))

    def __repr__(self) -> str:
        bounds = ""
        if self.low is not None or self.high is not None:
            bounds = f", truncated=[{self.low}, {self.high}]"
        return f"Normal(mean={self.loc:.4g}, sd={self.scale:.4g}{bounds})"


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high]``."""

    low: float
    high: float
    point: float | None = None

    def ppf(self, u):
        """Inverse CDF."""
        return self.low + np.asarray(u, dtype=np.float64) * (self.high - self.low)

    def cdf(self, x):
        """CDF."""
        return np.clip((np.asarray(x, dtype=np.float64) - self.low) / (self.high - self.low), 0, 1)

    def mean(self):
        """Midpoint."""
        return 0.5 * (self.low + self.high)

    def __repr__(self) -> str:
        return f"Uniform({self.low:.4g}, {self.high:.4g})"


@dataclass(frozen=True)
class LogUniform(Distribution):
    """Log-uniform on ``[low, high]`` (both positive)."""

    low: float
    high: float
    point: float | None = None

    def ppf(self, u):
        """Inverse CDF."""
        lo, hi = math.log(self.low), math.log(self.high)
        return np.exp(lo + np.asarray(u, dtype=np.float64) * (hi - lo))

    def cdf(self, x):
        """CDF."""
        x = np.maximum(np.asarray(x, dtype=np.float64), 1e-300)
        lo, hi = math.log(self.low), math.log(self.high)
        return np.clip((np.log(x) - lo) / (hi - lo), 0, 1)

    def mean(self):
        """Mean ``(high - low) / ln(high / low)``."""
        return (self.high - self.low) / math.log(self.high / self.low)

    def __repr__(self) -> str:
        return f"LogUniform({self.low:.4g}, {self.high:.4g})"


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular on ``[low, high]`` with its mode at ``mode``."""

    low: float
    mode: float
    high: float
    point: float | None = None

    @property
    def _frozen(self):
        width = self.high - self.low
        return stats.triang((self.mode - self.low) / width, loc=self.low, scale=width)

    def ppf(self, u):
        """Inverse CDF."""
        return self._frozen.ppf(u)

    def cdf(self, x):
        """CDF."""
        return self._frozen.cdf(x)

    def mean(self):
        """Mean ``(low + mode + high) / 3``."""
        return (self.low + self.mode + self.high) / 3.0

    def __repr__(self) -> str:
        return f"Triangular({self.low:.4g}, {self.mode:.4g}, {self.high:.4g})"


@dataclass(frozen=True)
class PERT(Distribution):
    """Beta-PERT on ``[low, high]`` with mode ``mode`` and shape ``lamb`` (default 4)."""

    low: float
    mode: float
    high: float
    lamb: float = 4.0
    point: float | None = None

    @property
    def _frozen(self):
        width = self.high - self.low
        alpha = 1 + self.lamb * (self.mode - self.low) / width
        beta = 1 + self.lamb * (self.high - self.mode) / width
        return stats.beta(alpha, beta, loc=self.low, scale=width)

    def ppf(self, u):
        """Inverse CDF."""
        return self._frozen.ppf(u)

    def cdf(self, x):
        """CDF."""
        return self._frozen.cdf(x)

    def mean(self):
        """Mean ``(low + lamb * mode + high) / (lamb + 2)``."""
        return (self.low + self.lamb * self.mode + self.high) / (self.lamb + 2)

    def __repr__(self) -> str:
        return f"PERT({self.low:.4g}, {self.mode:.4g}, {self.high:.4g})"


@dataclass(frozen=True)
class Beta(Distribution):
    """Beta(alpha, beta) scaled to ``[low, high]`` (default [0, 1])."""

    alpha: float
    beta: float
    low: float = 0.0
    high: float = 1.0
    point: float | None = None

    @property
    def _frozen(self):
        return stats.beta(self.alpha, self.beta, loc=self.low, scale=self.high - self.low)

    def ppf(self, u):
        """Inverse CDF."""
        return self._frozen.ppf(u)

    def cdf(self, x):
        """CDF."""
        return self._frozen.cdf(x)

    def mean(self):
        """Mean."""
        return float(self._frozen.mean())

    def __repr__(self) -> str:
        return f"Beta({self.alpha:.4g}, {self.beta:.4g}, [{self.low:g}, {self.high:g}])"


@dataclass(frozen=True)
class Empirical(Distribution):
    """The empirical distribution of listed samples.

    Quantiles interpolate linearly between order statistics, and sampling draws through
    the same inverse CDF, so sampling and :meth:`ppf` (used by Sobol designs) agree.
    """

    values: tuple[float, ...]
    point: float | None = None
    _sorted: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_sorted", np.sort(np.asarray(self.values, dtype=np.float64)))

    def ppf(self, u):
        """Linear-interpolated sample quantile."""
        return np.quantile(self._sorted, np.asarray(u, dtype=np.float64))

    def cdf(self, x):
        """Fraction of samples <= x."""
        return np.searchsorted(self._sorted, np.asarray(x), side="right") / len(self._sorted)

    def mean(self):
        """Sample mean."""
        return float(self._sorted.mean())

    def __repr__(self) -> str:
        s = self._sorted
        return f"Empirical(n={len(s)}, median={np.median(s):.4g})"


@dataclass(frozen=True)
class Mixture(Distribution):
    """A finite mixture of distributions with the given weights (normalized)."""

    components: tuple[Distribution, ...]
    weights: tuple[float, ...]
    point: float | None = None

    def cdf(self, x):
        """Weighted sum of component CDFs."""
        x = np.asarray(x, dtype=np.float64)
        return sum(w * c.cdf(x) for c, w in zip(self.components, self.weights, strict=True))

    def ppf(self, u):
        """Inverse CDF by vectorized bisection on the mixture CDF."""
        u = np.asarray(u, dtype=np.float64)
        lo = np.full(u.shape, min(float(c.ppf(np.asarray(1e-12))) for c in self.components))
        hi = np.full(u.shape, max(float(c.ppf(np.asarray(1 - 1e-12))) for c in self.components))
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < u
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def mean(self):
        """Weighted mean of component means."""
        return float(sum(w * c.mean() for c, w in zip(self.components, self.weights, strict=True)))

    def sample(self, rng, size):
        """Pick a component per draw by weight, then draw from it."""
        size = (size,) if isinstance(size, int) else tuple(size)
        which = rng.choice(len(self.components), size=size, p=np.asarray(self.weights))
        out = np.empty(size)
        for i, comp in enumerate(self.components):
            mask = which == i
            out[mask] = comp.sample(rng, int(mask.sum()))
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{w:.3g}*{c!r}" for c, w in zip(self.components, self.weights, strict=True))
        return f"Mixture({parts})"


DIST_NAMES = (
    "constant",
    "lognormal",
    "normal",
    "uniform",
    "loguniform",
    "triangular",
    "pert",
    "beta",
    "empirical",
    "mixture",
)


def from_ci(
    low: float,
    high: float,
    credibility: float = 0.9,
    dist: str = "lognormal",
    *,
    key: str = "ci",
    source: str | None = None,
) -> Distribution:
    """Build a distribution whose central ``credibility`` interval is ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Interval bounds, ``low < high`` (both positive for log-scale distributions).
    credibility : float, default 0.9
        Probability mass inside the interval, in (0, 1).
    dist : {"lognormal", "normal", "uniform", "loguniform"}
        Family.
    key, source : str
        Used in error messages.

    Returns
    -------
    Distribution

    Examples
    --------
    >>> d = from_ci(0.5, 2.0)
    >>> round(d.median(), 6)
    1.0
    """
    if not (0.0 < credibility < 1.0):
        raise ConfigError(key, f"credibility level must be in (0, 1), got {credibility}", source)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(key, f"interval bounds must be finite, got [{low}, {high}]", source)
    if not low < high:
        raise ConfigError(key, f"interval must have low < high, got [{low}, {high}]", source)
    if dist in ("lognormal", "loguniform") and low <= 0:
        raise ConfigError(key, f"{dist} needs a positive interval, got [{low}, {high}]", source)
    z = _z(credibility)
    if dist == "lognormal":
        mu = 0.5 * (math.log(low) + math.log(high))
        return LogNormal(mu, (math.log(high) - math.log(low)) / (2 * z))
    if dist == "normal":
        return Normal(0.5 * (low + high), (high - low) / (2 * z))
    tail = (1 - credibility) / 2
    if dist == "uniform":
        width = (high - low) / credibility
        return Uniform(low - tail * width, high + tail * width)
    if dist == "loguniform":
        width = (math.log(high) - math.log(low)) / credibility
        return LogUniform(math.exp(math.log(low) - tail * width), math.exp(math.log(high) + tail * width))
    raise ConfigError(key, f"a credible interval cannot define a {dist!r} distribution", source)


_ALLOWED_KEYS = {
    "constant": {"value"},
    "lognormal": {"ci90", "ci", "level", "median", "factor", "mean", "sd"},
    "normal": {"ci90", "ci", "level", "mean", "sd", "low", "high"},
    "uniform": {"ci90", "ci", "level", "low", "high"},
    "loguniform": {"ci90", "ci", "level", "low", "high"},
    "triangular": {"low", "mode", "high"},
    "pert": {"low", "mode", "high", "lamb"},
    "beta": {"alpha", "beta", "mean", "sd", "low", "high"},
    "empirical": {"values", "csv", "column"},
    "mixture": {"components", "weights"},
}
_COMMON_KEYS = {"dist", "point"}


def _number(spec: dict, name: str, key: str, source: str | None) -> float:
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}.{name}", f"expected a number, got {value!r}", source)
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{key}.{name}", f"expected a finite number, got {value!r}", source)
    return value


def _positive(spec: dict, name: str, key: str, source: str | None) -> float:
    value = _number(spec, name, key, source)
    if value <= 0:
        raise ConfigError(f"{key}.{name}", f"must be positive, got {value:g}", source)
    return value


def _interval(spec: dict, key: str, source: str | None) -> tuple[float, float, float, str] | None:
    """Return (low, high, level, subkey) from ``ci90`` or ``ci``+``level``, if present."""
    if "ci90" in spec and "ci" in spec:
        raise ConfigError(key, "give either ci90 or ci (with level), not both", source)
    name = "ci90" if "ci90" in spec else "ci" if "ci" in spec else None
    if name is None:
        if "level" in spec:
            raise ConfigError(f"{key}.level", "level needs ci = [low, high]", source)
        return None
    pair = spec[name]
    if (
        not isinstance(pair, list | tuple)
        or len(pair) != 2
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in pair)
    ):
        raise ConfigError(f"{key}.{name}", f"expected [low, high] (two numbers), got {pair!r}", source)
    level = 0.9
    if name == "ci":
        level = _number(spec, "level", key, source) if "level" in spec else 0.9
    elif "level" in spec:
        raise ConfigError(f"{key}.level", "level goes with ci, not ci90", source)
    return float(pair[0]), float(pair[1]), level, f"{key}.{name}"


def _check_point(dist: Distribution, spec: dict, key: str, source: str | None) -> Distribution:
    if "point" not in spec:
        return dist
    point = _number(spec, "point", key, source)
    lo, hi = dist.quantile(np.array([0.0005, 0.9995]))
    if not (lo <= point <= hi) and not dist.is_constant:
        raise ConfigError(
            f"{key}.point", f"point {point:g} lies outside the distribution ({lo:.4g}..{hi:.4g})", source
        )
    return type(dist)(**{**_fields(dist), "point": point})


def _fields(dist: Distribution) -> dict[str, Any]:
    from dataclasses import fields as dc_fields

    return {f.name: getattr(dist, f.name) for f in dc_fields(dist) if f.init}


def from_spec(
    spec: Any,
    key: str,
    source: str | None = None,
    *,
    default_dist: str = "lognormal",
    base_dir: Path | None = None,
) -> Distribution:
    """Parse a distribution from a number or a TOML table.

    Accepted forms (``dist`` defaults to ``default_dist``):

    - a number: a :class:`Constant`;
    - ``{dist="lognormal", ci90=[lo, hi]}`` or ``ci=[lo, hi], level=0.8``; ``median``
      and ``factor`` (``ci90 = [median/factor, median*factor]``); ``mean`` and ``sd``;
    - ``{dist="normal", ci90=[lo, hi]}`` or ``mean``/``sd``, optional ``low``/``high``
      truncation;
    - ``{dist="uniform"|"loguniform", low=, high=}`` or a credible interval;
    - ``{dist="triangular"|"pert", low=, mode=, high=}`` (PERT: optional ``lamb``);
    - ``{dist="beta", alpha=, beta=}`` or ``mean``/``sd``; optional ``low``/``high`` scaling;
    - ``{dist="empirical", values=[...]}`` or ``csv="file.csv", column="name"``;
    - ``{dist="mixture", components=[{...}, ...], weights=[...]}``.

    Any form may add ``point = x``, the central value used by point evaluations.

    Parameters
    ----------
    spec : float or dict
        The TOML value.
    key : str
        Dotted config path, used in error messages.
    source : str, optional
        File name, used in error messages.
    default_dist : str
        Family assumed when ``dist`` is not given.
    base_dir : pathlib.Path, optional
        Directory against which an empirical ``csv`` path is resolved.

    Returns
    -------
    Distribution

    Raises
    ------
    ConfigError
        Naming the key, with what was expected and what was given.
    """
    if isinstance(spec, bool):
        raise ConfigError(key, f"expected a number or a distribution table, got {spec!r}", source)
    if isinstance(spec, int | float):
        if not math.isfinite(spec):
            raise ConfigError(key, f"expected a finite number, got {spec!r}", source)
        return Constant(float(spec))
    if not isinstance(spec, dict):
        raise ConfigError(key, f"expected a number or a distribution table, got {spec!r}", source)
    name = spec.get("dist", default_dist)
    if not isinstance(name, str) or name not in _ALLOWED_KEYS:
        raise ConfigError(f"{key}.dist", f"unknown distribution {name!r}; valid: {', '.join(DIST_NAMES)}", source)
    allowed = _ALLOWED_KEYS[name] | _COMMON_KEYS
    unknown = sorted((k for k in spec if k not in allowed), key=str)
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}",
            f"unknown key for a {name} distribution; valid keys: {', '.join(sorted(allowed))}",
            source,
        )
    dist = _build(name, spec, key, source, base_dir)
    return _check_point(dist, spec, key, source)


def _require(spec: dict, names: tuple[str, ...], key: str, source: str | None, what: str) -> None:
    missing = [n for n in names if n not in spec]
    if missing:
        raise ConfigError(key, f"{what} needs {' and '.join(names)} (missing {', '.join(missing)})", source)


def _build(name: str, spec: dict, key: str, source: str | None, base_dir: Path | None) -> Distribution:
    interval = _interval(spec, key, source) if name in ("lognormal", "normal", "uniform", "loguniform") else None
    if name == "constant":
        _require(spec, ("value",), key, source, "a constant")
        return Constant(_number(spec, "value", key, source))
    if name == "lognormal":
        if interval:
            lo, hi, level, sub = interval
            return from_ci(lo, hi, level, "lognormal", key=sub, source=source)
        if "median" in spec or "factor" in spec:
            _require(spec, ("median", "factor"), key, source, "a lognormal by median")
            median = _positive(spec, "median", key, source)
            factor = _number(spec, "factor", key, source)
            if factor <= 1:
                raise ConfigError(f"{key}.factor", f"must be > 1, got {factor:g}", source)
            return from_ci(median / factor, median * factor, 0.9, "lognormal", key=key, source=source)
        _require(spec, ("mean", "sd"), key, source, "a lognormal")
        mean, sd = _positive(spec, "mean", key, source), _positive(spec, "sd", key, source)
        sigma2 = math.log1p((sd / mean) ** 2)
        return LogNormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
    if name == "normal":
        low = _number(spec, "low", key, source) if "low" in spec else None
        high = _number(spec, "high", key, source) if "high" in spec else None
        if low is not None and high is not None and not low < high:
            raise ConfigError(f"{key}.low", f"truncation needs low < high, got [{low:g}, {high:g}]", source)
        if interval:
            lo, hi, level, sub = interval
            base = from_ci(lo, hi, level, "normal", key=sub, source=source)
            loc, scale = base.loc, base.scale
        else:
            _require(spec, ("mean", "sd"), key, source, "a normal")
            loc, scale = _number(spec, "mean", key, source), _positive(spec, "sd", key, source)
        return Normal(loc, scale, low, high)
    if name in ("uniform", "loguniform"):
        if interval:
            lo, hi, level, sub = interval
            return from_ci(lo, hi, level, name, key=sub, source=source)
        _require(spec, ("low", "high"), key, source, f"a {name}")
        low, high = _number(spec, "low", key, source), _number(spec, "high", key, source)
        if not low < high:
            raise ConfigError(f"{key}.low", f"needs low < high, got [{low:g}, {high:g}]", source)
        if name == "loguniform" and low <= 0:
            raise ConfigError(f"{key}.low", f"loguniform needs low > 0, got {low:g}", source)
        return (Uniform if name == "uniform" else LogUniform)(low, high)
    if name in ("triangular", "pert"):
        _require(spec, ("low", "mode", "high"), key, source, f"a {name}")
        low, mode, high = (_number(spec, n, key, source) for n in ("low", "mode", "high"))
        if not (low <= mode <= high and low < high):
            raise ConfigError(key, f"needs low <= mode <= high and low < high, got {low:g}, {mode:g}, {high:g}", source)
        if name == "triangular":
            return Triangular(low, mode, high)
        lamb = _positive(spec, "lamb", key, source) if "lamb" in spec else 4.0
        return PERT(low, mode, high, lamb)
    if name == "beta":
        low = _number(spec, "low", key, source) if "low" in spec else 0.0
        high = _number(spec, "high", key, source) if "high" in spec else 1.0
        if not low < high:
            raise ConfigError(f"{key}.low", f"needs low < high, got [{low:g}, {high:g}]", source)
        if "alpha" in spec or "beta" in spec:
            _require(spec, ("alpha", "beta"), key, source, "a beta")
            return Beta(_positive(spec, "alpha", key, source), _positive(spec, "beta", key, source), low, high)
        _require(spec, ("mean", "sd"), key, source, "a beta")
        mean = (_number(spec, "mean", key, source) - low) / (high - low)
        sd = _positive(spec, "sd", key, source) / (high - low)
        if not 0 < mean < 1 or sd**2 >= mean * (1 - mean):
            raise ConfigError(key, "mean/sd do not define a beta distribution on [low, high]", source)
        common = mean * (1 - mean) / sd**2 - 1
        return Beta(mean * common, (1 - mean) * common, low, high)
    if name == "empirical":
        return Empirical(tuple(_empirical_values(spec, key, source, base_dir)))
    # mixture
    _require(spec, ("components", "weights"), key, source, "a mixture")
    comps, weights = spec["components"], spec["weights"]
    if not isinstance(comps, list) or not comps:
        raise ConfigError(f"{key}.components", "expected a non-empty list of distributions", source)
    if not isinstance(weights, list) or len(weights) != len(comps):
        raise ConfigError(f"{key}.weights", f"expected {len(comps)} weights, got {weights!r}", source)
    if (any(isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0 for w in weights)
            or sum(weights) <= 0):
        message = f"weights must be finite, non-negative numbers with a positive sum, got {weights!r}"
        raise ConfigError(f"{key}.weights", message, source)
    total = float(sum(weights))
    if abs(total - 1.0) > 1e-9:
        where = f"{source}: " if source else ""
        warnings.warn(f"{where}{key}.weights sum to {total:g}, not 1; they are used as relative weights "
                      f"(normalised to {', '.join(f'{w / total:.3g}' for w in weights)})",
                      UncertainCostWarning, stacklevel=2)
    parts = tuple(
        from_spec(c, f"{key}.components[{i}]", source, default_dist="lognormal", base_dir=base_dir)
        for i, c in enumerate(comps)
    )
    return Mixture(parts, tuple(float(w) / total for w in weights))


def _empirical_values(spec: dict, key: str, source: str | None, base_dir: Path | None) -> list[float]:
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list) or len(values) < 2:
            raise ConfigError(f"{key}.values", "expected a list of at least two numbers", source)
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in values):
            raise ConfigError(f"{key}.values", "every value must be a finite number", source)
        return [float(v) for v in values]
    _require(spec, ("csv", "column"), key, source, "an empirical distribution")
    if not isinstance(spec["csv"], str) or not spec["csv"]:
        raise ConfigError(f"{key}.csv", f"expected a CSV file name (a string), got {spec['csv']!r}", source)
    if not isinstance(spec["column"], str) or not spec["column"]:
        raise ConfigError(f"{key}.column", f"expected a column name (a string), got {spec['column']!r}", source)
    path = Path(spec["csv"]).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        found = path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        found = False
    if not found:
        raise ConfigError(f"{key}.csv", f"file not found: {path}", source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{key}.csv", f"cannot read {path}: {exc.strerror or exc}", source) from None
    from uncertain_cost.textdecode import decode_utf8

    text, problem = decode_utf8(data)
    if text is None:
        raise ConfigError(f"{key}.csv", f"{path} {problem} is not UTF-8 text", source)
    values: list[float] = []
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if spec["column"] not in (reader.fieldnames or []):
            raise ConfigError(f"{key}.column", f"column {spec['column']!r} not in {path.name}", source)
        for row in reader:
            cell = (row.get(spec["column"]) or "").strip()
            if not cell:
                continue
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ConfigError(
                    f"{key}.csv", f"{path} row {reader.line_num}: {cell!r} is not a finite number", source
                ) from None
            values.append(value)
    except csv.Error as exc:
        raise ConfigError(f"{key}.csv", f"{path} line {reader.line_num}: {exc}", source) from None
    if len(values) < 2:
        raise ConfigError(f"{key}.csv", f"{path.name} column {spec['column']!r} has fewer than two numbers", source)
    return values
