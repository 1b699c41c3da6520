"""Distributions: an interval put in comes back out; validation names the key."""

import numpy as np
import pytest

from uncertain_cost.distributions import (
    PERT,
    Beta,
    Constant,
    Empirical,
    LogNormal,
    Mixture,
    Normal,
    Triangular,
    from_ci,
    from_spec,
)
from uncertain_cost.errors import ConfigError, UncertainCostWarning

N = 200_000


def _mc_quantiles(dist, qs, seed=1):
    rng = np.random.default_rng(seed)
    return np.quantile(dist.sample(rng, N), qs)


def _mc_tolerance(dist, q):
    # standard error of a sample quantile: sqrt(q(1-q)/N) / density; density by finite difference
    eps = 1e-3
    x0, x1 = dist.ppf(np.array([q - eps, q + eps]))
    density = 2 * eps / (x1 - x0)
    return 5 * np.sqrt(q * (1 - q) / N) / density


@pytest.mark.parametrize(
    "spec, lo, hi, level",
    [
        ({"dist": "lognormal", "ci90": [0.5, 2.0]}, 0.5, 2.0, 0.9),
        ({"ci": [140e3, 265e3], "level": 0.8}, 140e3, 265e3, 0.8),
        ({"dist": "normal", "ci90": [0.10, 0.18]}, 0.10, 0.18, 0.9),
        ({"dist": "uniform", "ci90": [2.0, 4.0]}, 2.0, 4.0, 0.9),
        ({"dist": "loguniform", "ci": [1.0, 100.0], "level": 0.5}, 1.0, 100.0, 0.5),
    ],
)
def test_interval_in_interval_out(spec, lo, hi, level):
    dist = from_spec(spec, "x")
    tail = (1 - level) / 2
    np.testing.assert_allclose(dist.ppf(np.array([tail, 1 - tail])), [lo, hi], rtol=1e-9)
    got = _mc_quantiles(dist, [tail, 1 - tail])
    for q, g, want in zip([tail, 1 - tail], got, [lo, hi], strict=True):
        assert abs(g - want) < _mc_tolerance(dist, q)


@pytest.mark.parametrize(
    "dist",
    [
        Triangular(1.0, 2.0, 5.0),
        PERT(1.0, 2.0, 5.0),
        Beta(2.0, 5.0),
        Normal(0.375, 0.167, 0.01, 1.0),
        Mixture((LogNormal(0.0, 0.3), LogNormal(1.0, 0.2)), (0.3, 0.7)),
        Empirical(tuple(np.linspace(1, 10, 50))),
    ],
)
def test_sample_matches_ppf(dist):
    qs = np.array([0.05, 0.5, 0.95])
    got = _mc_quantiles(dist, qs)
    for q, g, want in zip(qs, got, dist.ppf(qs), strict=True):
        assert abs(g - want) < _mc_tolerance(dist, q) + 1e-9


def test_mixture_cdf_inverts():
    with pytest.warns(UncertainCostWarning, match="m.weights sum to 4"):
        mix = from_spec({"dist": "mixture", "components": [{"ci90": [1, 2]}, {"ci90": [5, 9]}], "weights": [1, 3]},
                        "m")
    u = np.array([0.1, 0.25, 0.5, 0.9])
    np.testing.assert_allclose(mix.cdf(mix.ppf(u)), u, atol=1e-9)
    assert mix.weights == (0.25, 0.75)


def test_forms_agree():
    a = from_spec({"ci90": [0.5, 2.0]}, "a")
    b = from_spec({"median": 1.0, "factor": 2.0}, "b")
    assert a == b
    c = from_spec({"dist": "lognormal", "mean": 3.0, "sd": 1.5}, "c")
    rng = np.random.default_rng(0)
    draws = c.sample(rng, N)
    assert draws.mean() == pytest.approx(3.0, rel=0.01)
    assert draws.std() == pytest.approx(1.5, rel=0.03)
    assert from_spec(2.5, "k") == Constant(2.5)


def test_point_overrides_central_but_not_median():
    d = from_spec({"ci90": [0.6, 1.7], "point": 1.0}, "e")
    assert d.central == 1.0
    assert d.median() == pytest.approx(np.sqrt(0.6 * 1.7))


def test_repr_is_readable():
    assert repr(from_ci(0.5, 2.0)) == "LogNormal(ci90=[0.5, 2], median=1)"
    assert "truncated" in repr(Normal(0.0, 1.0, 0.0, None))


def test_immutable():
    d = from_ci(1, 2)
    with pytest.raises(AttributeError):
        d.mu = 3.0


@pytest.mark.parametrize(
    "spec, key_part, words",
    [
        ({"ci90": [2.0, 1.0]}, "x.ci90", "low < high"),
        ({"ci90": [1.0, 1.0]}, "x.ci90", "low < high"),
        ({"ci90": [-1.0, 1.0]}, "x.ci90", "positive"),
        ({"ci90": [1.0]}, "x.ci90", "two numbers"),
        ({"ci90": "wide"}, "x.ci90", "two numbers"),
        ({"dist": "gamma"}, "x.dist", "valid"),
        ({"ci90": [1, 2], "scale": 3}, "x.scale", "valid keys"),
        ({"dist": "triangular", "low": 3, "mode": 1, "high": 5}, "x", "low <= mode"),
        ({"dist": "normal", "mean": 1}, "x", "sd"),
        ({"dist": "normal", "mean": 1, "sd": -1}, "x.sd", "positive"),
        ({"ci": [1, 2], "level": 1.5}, "x.ci", "(0, 1)"),
        ({"dist": "mixture", "components": [{"ci90": [1, 2]}], "weights": [1, 2]}, "x.weights", "1 weights"),
        ({"dist": "empirical", "values": [1]}, "x.values", "at least two"),
        ({"ci90": [1, 2], "point": 100}, "x.point", "outside"),
        (True, "x", "number"),
        ("abc", "x", "number"),
    ],
)
def test_bad_specs_name_the_key(spec, key_part, words):
    with pytest.raises(ConfigError) as info:
        from_spec(spec, "x", "cfg.toml")
    assert info.value.key == key_part
    assert words in info.value.message
    assert str(info.value).startswith("cfg.toml: ")


def test_empirical_from_csv(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,10\n2,\n3,30\n", encoding="utf-8")
    d = from_spec({"dist": "empirical", "csv": "s.csv", "column": "b"}, "e", base_dir=tmp_path)
    assert d.values == (10.0, 30.0)
    path.write_text("a,b\n1,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 2"):
        from_spec({"dist": "empirical", "csv": "s.csv", "column": "b"}, "e", base_dir=tmp_path)
