"""The batched R-hat / ESS of `growth.mcmc_stats` against ArviZ's own, series by series."""

import logging
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pytest
import xarray as xr

from uncertain_cost.growth import mcmc_stats
from uncertain_cost.growth.diagnostics import Diagnostics, _divergences, compute_diagnostics, import_arviz

az = import_arviz()


# The ArviZ path `compute_diagnostics` replaced: the reference it is compared with.
def _extreme(ds, pick) -> tuple[float, str]:
    """Largest (``pick=np.nanargmax``) or smallest value over all variables, with its label."""
    best, label = math.nan, ""
    for name, da in ds.data_vars.items():
        values = np.asarray(da.values, dtype=np.float64)
        if values.size == 0 or np.all(np.isnan(values)):
            continue
        flat = int(pick(values))
        value = float(values.ravel()[flat])
        better = math.isnan(best) or (value > best if pick is np.nanargmax else value < best)
        if better:
            best = value
            if values.ndim:
                index = np.unravel_index(flat, values.shape)
                coords = [str(da[dim].values[i]) for dim, i in zip(da.dims, index, strict=True)]
                label = f"{name}[{', '.join(coords)}]"
            else:
                label = str(name)
    return best, label


def _compute_diagnostics_arviz(
    idata,
    var_names: Sequence[str] | None = None,
    *,
    r_hat_threshold: float = 1.01,
    ess_threshold: float | None = None,
) -> Diagnostics:
    """`compute_diagnostics` through ``az.rhat`` / ``az.ess`` (the reference its tests compare with)."""
    az = import_arviz()
    post = idata.posterior
    if var_names is not None:
        post = post[list(var_names)]
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    r_hat, worst_r_hat = _extreme(az.rhat(post), np.nanargmax)
    ess_bulk, worst_ess = _extreme(az.ess(post, method="bulk"), np.nanargmin)
    ess_tail, worst_ess_tail = _extreme(az.ess(post, method="tail"), np.nanargmin)
    return Diagnostics(
        r_hat_max=r_hat,
        ess_bulk_min=ess_bulk,
        ess_tail_min=ess_tail,
        divergences=_divergences(idata),
        chains=chains,
        draws=draws,
        worst_r_hat=worst_r_hat,
        worst_ess=worst_ess,
        worst_ess_tail=worst_ess_tail,
        r_hat_threshold=float(r_hat_threshold),
        ess_threshold=float(100.0 * chains if ess_threshold is None else ess_threshold),
    )


@pytest.fixture(autouse=True)
def _quiet_arviz():
    """ArviZ logs a warning for every nan or too-short series and numpy warns on 0/0."""
    logger = logging.getLogger("arviz")
    level = logger.level
    logger.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
    logger.setLevel(level)


def _ar1(rng, shape, phi):
    e = rng.standard_normal(shape)
    x = np.empty_like(e)
    x[..., 0] = e[..., 0]
    for t in range(1, shape[-1]):
        x[..., t] = phi * x[..., t - 1] + e[..., t]
    return x


def _arviz(x):
    """ArviZ's rhat, bulk ESS, tail ESS of each (chains, draws) series."""
    rows = [(az.rhat(s), az.ess(s, method="bulk"), az.ess(s, method="tail")) for s in x]
    return np.array(rows, dtype=np.float64).T


def _cases():
    rng = np.random.default_rng(20260)
    stuck = rng.standard_normal((3, 4, 300))
    stuck[0, 2, :] = 0.25  # one chain stuck at a constant
    stuck[1, 1, :] = stuck[1, 1, :1]  # another stuck at its first draw
    with_nan = rng.standard_normal((3, 4, 200))
    with_nan[1, 3, 17] = np.nan
    spike = np.zeros((2, 4, 200))
    spike[0, :, 100] = 1.0  # tail indicators constant, bulk not
    spike[1, 2, 7] = -3.0
    infinite = rng.standard_normal((4, 4, 100))
    infinite[0, 1, 5] = np.inf  # a finite median: folded draws stay finite
    infinite[1, :, :60] = np.inf  # an infinite median: the folded R-hat is nan, ignored
    infinite[2, :, ::3] = -np.inf
    infinite[3, :2, :] = -np.inf  # median (-inf + inf) / 2
    infinite[3, 2:, :] = np.inf
    return {
        "infinite draws": infinite,
        "normal 4x1000": rng.standard_normal((6, 4, 1000)),
        "ar1 4x1000": _ar1(rng, (6, 4, 1000), 0.95),
        "ar1 mild 4x500": _ar1(rng, (6, 4, 500), 0.3),
        "student-t df 1.5": rng.standard_t(1.5, (6, 4, 1000)),
        "ties (rounded)": np.round(rng.standard_normal((6, 4, 500)), 1),
        "heavy ties": np.round(rng.standard_normal((4, 4, 101))),
        "constant": np.full((2, 4, 100), 3.7),
        "stuck chain": stuck,
        "nan": with_nan,
        "spike": spike,
        "1 chain": _ar1(rng, (4, 1, 500), 0.5),
        "2 chains odd draws": _ar1(rng, (4, 2, 101), 0.5),
        "3 chains even draws": rng.standard_normal((4, 3, 500)),
        "4 draws": rng.standard_normal((3, 4, 4)),
        "5 draws": rng.standard_normal((3, 4, 5)),
        "3 draws (too few)": rng.standard_normal((2, 4, 3)),
        "integers": rng.integers(0, 5, (3, 4, 100)),
    }


CASES = _cases()


@pytest.mark.parametrize("case", list(CASES))
def test_equal_to_arviz(case):
    x = CASES[case]
    ref_rhat, ref_bulk, ref_tail = _arviz(x)
    for ref, new in [
        (ref_rhat, mcmc_stats.rhat_rank(x)),
        (ref_bulk, mcmc_stats.ess_bulk(x)),
        (ref_tail, mcmc_stats.ess_tail(x)),
    ]:
        assert new.shape == (x.shape[0],) and new.dtype == np.float64
        np.testing.assert_array_equal(np.isnan(new), np.isnan(ref))
        np.testing.assert_allclose(new, ref, rtol=1e-10, atol=0)
    # the shared path used by summarize gives the same numbers
    for shared, alone in zip(
        mcmc_stats._all_stats(np.asarray(x, dtype=np.float64)),
        (mcmc_stats.rhat_rank(x), mcmc_stats.ess_bulk(x), mcmc_stats.ess_tail(x)),
        strict=True,
    ):
        np.testing.assert_array_equal(shared, alone)


def test_edge_cases_follow_arviz():
    # constant: R-hat nan (0/0), ESS = number of split draws; 1 chain: no R-hat; nan: all nan
    const = CASES["constant"]
    assert np.isnan(mcmc_stats.rhat_rank(const)).all()
    np.testing.assert_array_equal(mcmc_stats.ess_bulk(const), 400.0)
    np.testing.assert_array_equal(mcmc_stats.ess_tail(const), 400.0)
    assert np.isnan(mcmc_stats.rhat_rank(CASES["1 chain"])).all()
    assert np.isfinite(mcmc_stats.ess_bulk(CASES["1 chain"])).all()
    nan_row = [np.isnan(f(CASES["nan"])) for f in (mcmc_stats.rhat_rank, mcmc_stats.ess_bulk, mcmc_stats.ess_tail)]
    for row in nan_row:
        np.testing.assert_array_equal(row, [False, True, False])
    # a (chains, draws) array is one series
    x = CASES["normal 4x1000"][0]
    np.testing.assert_array_equal(mcmc_stats.ess_bulk(x), mcmc_stats.ess_bulk(x[None]))
    with pytest.raises(ValueError, match="n_series, chains, draws"):
        mcmc_stats.rhat_rank(np.zeros(10))


def _posterior(rng, chains=4, draws=400):
    """A posterior shaped like the growth fit's: scalars, coordinate vectors, a matrix, oddities."""
    models = [f"m{i}" for i in range(5)]
    theta = np.moveaxis(_ar1(rng, (5, chains, draws), 0.6), 0, -1)
    theta[..., 3] = theta[..., 1]  # a duplicate series: ties between extremes go to the first
    matrix = rng.standard_normal((chains, draws, 2, 3))
    matrix[:, :, 1, 2] = np.round(matrix[:, :, 1, 2])
    bad = rng.standard_normal((chains, draws, 2))
    bad[0, 0, 0] = np.nan
    post = xr.Dataset(
        {
            "mu": (("chain", "draw"), _ar1(rng, (chains, draws), 0.9)),
            "theta": (("chain", "draw", "model"), theta),
            "matrix": (("chain", "draw", "row", "col"), matrix),
            "all_nan": (("chain", "draw"), np.full((chains, draws), np.nan)),
            "partly_nan": (("chain", "draw", "k"), bad),
            "const": (("chain", "draw"), np.full((chains, draws), 2.0)),
            "sigma": (("chain", "draw"), np.exp(rng.standard_normal((chains, draws)))),
            "empty": (("chain", "draw", "none"), np.empty((chains, draws, 0))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "model": models, "col": [10, 20, 30]},
    )
    diverging = np.zeros((chains, draws), dtype=bool)
    diverging[1, [3, 50]] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), diverging)})
    return az.InferenceData(posterior=post, sample_stats=stats)


@pytest.mark.parametrize(
    "var_names", [None, ["theta", "mu", "sigma"], ["matrix"], ["all_nan"], ["const", "theta"]]
)
def test_compute_diagnostics_equal_to_arviz(var_names):
    idata = _posterior(np.random.default_rng(7))
    new = compute_diagnostics(idata, var_names, ess_threshold=300.0)
    ref = _compute_diagnostics_arviz(idata, var_names, ess_threshold=300.0)
    assert new.as_dict().keys() == ref.as_dict().keys()
    for key, value in ref.as_dict().items():
        got = new.as_dict()[key]
        if isinstance(value, float) and np.isnan(value):
            assert np.isnan(got), key
        else:  # the same floats, not only close ones (the sums are done in ArviZ's order)
            assert got == value, key
    assert new.divergences == 2 and new.chains == 4 and new.draws == 400


def test_compute_diagnostics_labels_and_ties():
    idata = _posterior(np.random.default_rng(3))
    summary = mcmc_stats.summarize(idata.posterior, ["theta", "matrix", "mu"])
    assert summary.labels[:5] == tuple(f"theta[m{i}]" for i in range(5))
    assert summary.labels[5:11] == ("matrix[0, 10]", "matrix[0, 20]", "matrix[0, 30]",
                                    "matrix[1, 10]", "matrix[1, 20]", "matrix[1, 30]")
    assert summary.labels[11] == "mu"
    # theta[m1] and theta[m3] are the same series: the first one is reported
    theta = mcmc_stats.summarize(idata.posterior, ["theta"])
    assert theta.r_hat[1] == theta.r_hat[3]
    assert theta.worst_ess != "theta[m3]" and theta.worst_r_hat != "theta[m3]"
    # chain and draw need not come first
    post = idata.posterior.transpose("draw", "model", "chain", "row", "col", ...)
    moved = mcmc_stats.summarize(post, ["theta", "matrix", "mu"])
    assert moved.labels == summary.labels
    np.testing.assert_array_equal(moved.ess_bulk, summary.ess_bulk)
    ref = _compute_diagnostics_arviz(az.InferenceData(posterior=post), ["theta", "matrix", "mu"])
    assert (ref.worst_r_hat, ref.worst_ess, ref.worst_ess_tail) == (
        moved.worst_r_hat, moved.worst_ess, moved.worst_ess_tail)


def test_blocks_and_threads_do_not_change_the_floats(monkeypatch):
    rng = np.random.default_rng(11)
    x = _ar1(rng, (40, 4, 200), 0.7)
    x[5, 0, 0] = np.nan
    reference = mcmc_stats._all_stats(x)
    for block, threads in [(1, 1), (7, 2), (64, 4)]:
        monkeypatch.setattr(mcmc_stats, "_BLOCK", block)
        monkeypatch.setattr(mcmc_stats, "_MAX_THREADS", threads)
        for got, want in zip(mcmc_stats._all_stats(x), reference, strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(mcmc_stats.ess_tail(x), reference[2])
