"""The screened convergence diagnostics report ArviZ's own worst R-hat and ESS, bit for bit."""

import numpy as np
import pytest
import xarray as xr

from uncertain_cost.growth import diagnostics as D


def _arviz_worst(post):
    az = D.import_arviz()
    return (D._worst(az.rhat(post, method="rank"), largest=True),
            D._worst(az.ess(post, method="bulk"), largest=False),
            D._worst(az.ess(post, method="tail"), largest=False))


def _chains(rng, chains, draws, k, rho):
    """AR(1) chains with chain-specific offsets: ESS well below the draws, R-hat above 1."""
    x = np.empty((chains, draws, k))
    x[:, 0] = rng.normal(size=(chains, k))
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=(chains, k))
    return x + rng.normal(0, 0.05, (chains, 1, k))


@pytest.mark.parametrize(("chains", "draws", "rho", "seed"), [(4, 1000, 0.3, 0), (4, 250, 0.8, 1), (2, 500, 0.95, 2),
                                                              (8, 60, 0.5, 3), (3, 101, 0.0, 4)])
def test_screened_worst_is_arviz_worst(chains, draws, rho, seed):
    rng = np.random.default_rng(seed)
    x = _chains(rng, chains, draws, 12, rho)
    post = xr.Dataset({
        "scale": (("chain", "draw"), np.exp(x[..., 0])),
        "effect": (("chain", "draw", "model"), x[..., 1:10], ),
        "slope": (("chain", "draw", "cost_method"), x[..., 10:11]),
        "rounded": (("chain", "draw"), np.round(x[..., 11], 1)),  # many ties
    }, coords={"chain": np.arange(chains), "draw": np.arange(draws), "model": [f"m{i}" for i in range(9)],
               "cost_method": ["amortized"]})
    got = D._screened_worst(post)
    assert got is not None
    assert got == _arviz_worst(post)
    # the screen itself is ArviZ's value for every series, up to rounding
    az = D.import_arviz()
    series, labels = D._series(post)
    screened = D._screen(series)
    rhat = az.rhat(post, method="rank")
    exact = np.concatenate([np.ravel(rhat[v].values) for v in rhat.data_vars])
    np.testing.assert_allclose(screened["rhat"][0], exact, rtol=1e-9)
    bulk = az.ess(post, method="bulk")
    np.testing.assert_allclose(screened["bulk"][0], np.concatenate([np.ravel(bulk[v].values) for v in bulk.data_vars]),
                               rtol=1e-9)
    assert labels[1] == "effect[m0]" and labels[10] == "slope[amortized]"


def test_compute_diagnostics_falls_back_to_arviz_where_the_screen_does_not_apply():
    rng = np.random.default_rng(5)
    one_chain = xr.Dataset({"a": (("chain", "draw"), rng.normal(size=(1, 400)))},
                           coords={"chain": [0], "draw": np.arange(400)})
    assert D._screened_worst(one_chain) is None
    d = D.compute_diagnostics(az_idata(one_chain))
    assert np.isnan(d.r_hat_max) and d.ess_bulk_min == pytest.approx(_arviz_worst(one_chain)[1][0])
    x = rng.normal(size=(4, 200, 2))
    x[0, 5, 1] = np.nan
    with_nan = xr.Dataset({"a": (("chain", "draw", "k"), x)}, coords={"chain": np.arange(4), "draw": np.arange(200)})
    assert D._screened_worst(with_nan) is None
    d = D.compute_diagnostics(az_idata(with_nan))
    assert (d.r_hat_max, d.worst_r_hat) == _arviz_worst(with_nan)[0]


def az_idata(post):
    return D.import_arviz().InferenceData(posterior=post)
