"""The repaired joint growth model: contrast terms, density, coefficient draws, LOO terms, predictive check."""

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from uncertain_cost.errors import ConfigError, DataError
from uncertain_cost.growth import GrowthData, GrowthPriors, build_model
from uncertain_cost.growth.bayes import draw_coefficients
from uncertain_cost.growth.data import DIM_COST_METHOD, measurement
from uncertain_cost.growth.repaired import (
    DIM_CONTRAST,
    PPC_COLUMNS,
    RepairedPriors,
    contrast_ppc,
    contrast_terms,
)

METHODS = ("amortized", "cloud", "acquisition")
RELEASES = np.array([2015.0, 2017.0, 2019.0, 2021.0])


def sawtooth_data(seed=0, n_models=24, n_draws=400, age_coef=0.14, slope=0.4, with_chips=True):
    """Costs whose method contrasts follow a depreciation sawtooth, as the engine's do.

    Chip ``c`` is available from ``RELEASES[c]``; a model trains on the newest chip, so its
    chip age grows within a chip and resets at the next one. Amortized cost depreciates by
    ``10**(-age_coef * age)``; cloud and acquisition do not, and carry a per-chip offset.
    Monte Carlo errors: a level shift per draw, a per-chip shift (all methods), a per-model
    error shared by the methods and a small per-observation error.
    """
    rng = np.random.default_rng(seed)
    year = np.sort(rng.uniform(2015.5, 2023.9, n_models))
    chip = np.searchsorted(RELEASES, year) - 1
    age = year - RELEASES[chip]
    v = 0.4 * rng.standard_t(6, n_models)
    chip_cloud, chip_acq = rng.normal(0, 0.2, 4), rng.normal(0, 0.05, 4)
    x = year - 2020.0
    truth = np.array([
        6.3 + slope * x + v - age_coef * age,
        6.3 + slope * x + v + 0.3 + chip_cloud[chip] + rng.normal(0, 0.03, n_models),
        6.3 + slope * x + v + 1.3 + chip_acq[chip] + rng.normal(0, 0.03, n_models),
    ])
    costed = np.ones_like(truth, dtype=bool)
    costed[1, :3] = False  # the earliest models have no cloud price
    costed[2, -2:] = False

    def errors(n):
        return (rng.normal(0, 0.1, (n, 1, 1)) + rng.normal(0, 0.15, (n, 1, 4))[:, :, chip]
                + rng.normal(0, 0.2, (n, 1, n_models)) + rng.normal(0, 0.02, (n, 3, n_models)))

    point = truth + errors(1)[0]
    draws = np.where(costed[None], point[None] + errors(n_draws), np.nan)
    extra = {"chip": tuple(f"chip {c}" for c in chip), "chip_age_years": age} if with_chips else {}
    data = GrowthData(year, {m: draws[:, j] for j, m in enumerate(METHODS)},
                      {m: np.where(costed[j], point[j], np.nan) for j, m in enumerate(METHODS)},
                      model=tuple(f"m{i:02d}" for i in range(n_models)), **extra)
    return data, {"v": v, "chip": chip, "age": age, "chip_cloud": chip_cloud, "chip_acq": chip_acq}


@pytest.fixture(scope="module")
def repaired_model():
    data, truth = sawtooth_data()
    return build_model(data, variant="repaired"), data, truth


# ------------------------------------------------------------------------------- data


def test_growth_data_chip_fields_are_validated_and_kept():
    data, _ = sawtooth_data()
    assert len(data.chip) == data.n_models and data.chip_age_years.shape == (data.n_models,)
    alone = data.select(["cloud"])
    assert alone.chip == data.chip and np.array_equal(alone.chip_age_years, data.chip_age_years)
    with pytest.raises(DataError, match="chip names"):
        GrowthData(data.year, data.log10_cost_draws, chip=("a",))
    with pytest.raises(DataError, match="chip_age_years"):
        GrowthData(data.year, data.log10_cost_draws, chip_age_years=-np.ones(data.n_models))
    plain = GrowthData(data.year, data.log10_cost_draws)
    assert plain.chip == () and plain.chip_age_years is None


def test_from_cost_dataset_reads_the_chip_coordinate():
    data, _ = sawtooth_data(n_models=6, n_draws=20)
    cost = np.stack([10.0 ** np.asarray(data.log10_cost_draws[m]) for m in METHODS], axis=-1)
    ds = xr.Dataset({"cost": (("draw", "model", DIM_COST_METHOD), cost)},
                    coords={DIM_COST_METHOD: list(METHODS), "model": list(data.model),
                            "publication_year": ("model", data.year), "chip": ("model", list(data.chip))})
    back = GrowthData.from_cost_dataset(ds)
    assert back.chip == data.chip and back.chip_age_years is None


def test_growth_data_from_run_passes_chips_and_ages():
    from uncertain_cost.growth.step import growth_data_from_run

    n = 4
    facts = SimpleNamespace(is_frontier=np.array([True, True, False, True]), publication_year=np.arange(n) + 2020.0,
                            names=("a", "b", "c", "d"), chips=("X", "Y"), chip_index=np.array([0, -1, 1, 1]),
                            depreciation_years=np.array([0.5, 0.0, 1.0, 2.0]))
    totals = np.ones((3, n)) * 1e6
    kept = SimpleNamespace(total=lambda method: totals)
    sim = SimpleNamespace(kept=kept, point=SimpleNamespace(total=lambda method: totals[:1]))
    data = growth_data_from_run(facts, sim)
    assert data.chip == ("X", "", "Y")
    np.testing.assert_array_equal(data.chip_age_years, [0.5, np.nan, 2.0])


def test_priors_of_the_repaired_model_are_validated():
    assert GrowthPriors(scatter_method_sd=-0.1).scatter_method_sd == -0.1  # the Gamma convention
    with pytest.raises(ConfigError, match="scatter_method_sd"):
        GrowthPriors(scatter_method_sd=0.0)
    with pytest.raises(ConfigError, match=r"RepairedPriors: chip_sd\.cloud"):
        RepairedPriors(chip_sd={"cloud": -1.0})
    with pytest.raises(ConfigError, match=r"RepairedPriors: age_coef_sd"):
        RepairedPriors(age_coef_sd=float("nan"))
    assert RepairedPriors().chip_sd_of("cloud") == 0.3 and RepairedPriors().chip_sd_of("other") == 0.3


# ----------------------------------------------------------------------- contrast terms


def test_contrast_terms_layout():
    data, truth = sawtooth_data()
    meas = measurement(data)
    terms = contrast_terms(data, meas)
    mi, ii = meas.method_index, meas.model_index
    # per non-reference method: one age term and one term per chip it costs
    assert terms.labels[0] == "cloud: chip age" and terms.kind.count("age") == 2
    assert terms.n_terms == 2 + 2 * 4 and terms.design.shape == (meas.n_obs, terms.n_terms)
    assert np.all(terms.design[mi == 0] == 0.0)  # the reference method has no contrast term
    # the age covariate is the age detrended on year: orthogonal to (1, year)
    resid = terms.age_residual
    assert abs(resid.sum()) < 1e-9 and abs(resid @ (meas.year - meas.year.mean())) < 1e-9
    np.testing.assert_allclose(resid + terms.age_trend[0] + terms.age_trend[1] * meas.year, truth["age"], atol=1e-9)
    age_col = terms.labels.index("acquisition: chip age")
    np.testing.assert_array_equal(terms.design[:, age_col], np.where(mi == 2, resid[ii], 0.0))
    chips = terms.design[:, [k for k, kind in enumerate(terms.kind) if kind == "chip"]]
    np.testing.assert_array_equal(chips.sum(axis=1), (mi > 0).astype(float))  # one chip per observation
    np.testing.assert_array_equal(terms.prior_mean, [0.14 if k == "age" else 0.0 for k in terms.kind])
    np.testing.assert_array_equal(terms.prior_sd[terms.method.index("acquisition") + 1], 0.1)


def test_contrast_terms_need_chips_and_the_reference_method():
    data, _ = sawtooth_data(with_chips=False)
    with pytest.raises(ValueError, match="GrowthData.chip"):
        contrast_terms(data, measurement(data))
    data, _ = sawtooth_data()
    alone = data.select(["cloud", "acquisition"])
    with pytest.raises(ValueError, match="amortized"):
        contrast_terms(alone, measurement(alone))
    with pytest.raises(ConfigError, match="build_model: variant"):
        build_model(data, variant="bogus")


def test_joint_model_ignores_the_chip_data():
    data, _ = sawtooth_data()
    plain = GrowthData(data.year, data.log10_cost_draws, data.log10_cost_point, data.model)
    gm = build_model(data)
    a, b = gm.density, build_model(plain).density
    assert a.linear.n_extra == 0 and gm.contrasts is None
    np.testing.assert_array_equal(a.linear.x_rot, b.linear.x_rot)
    theta = a.initial_point() + np.random.default_rng(0).normal(0, 0.5, a.size)
    assert a.logp_and_grad(theta)[0] == b.logp_and_grad(theta)[0]


# ------------------------------------------------------------------------------ density


def _written_out(gm, theta):
    """Log density of the repaired model at ``theta``, every term written out with scipy."""
    meas, lin, pr, terms = gm.measurement, gm.linear, gm.priors, gm.contrasts
    dens = gm.density
    o = dens._offsets()
    m = len(meas.methods)
    val = dens.unpack(theta)
    ta, tb, sw, s, nu = (float(val[k]) for k in ("intercept_spread", "slope_spread", "scatter_method",
                                                 "scatter_model", "nu"))
    zs = theta[o["log_loading"]]
    raw = theta[o["raw"]]
    rp = terms.priors
    logp = (stats.halfnorm(scale=pr.intercept_spread_sd).logpdf(ta) + theta[0]
            + stats.halfnorm(scale=pr.slope_spread_sd).logpdf(tb) + theta[1]
            + stats.norm(0, pr.loading_sd).logpdf(zs).sum()
            + stats.gamma(2.0, scale=rp.scatter_method_mean / 2.0).logpdf(sw) + theta[o["scatter_method"]]
            + stats.gamma(2.0, scale=pr.scatter_model_mean / 2.0).logpdf(s) + theta[o["scatter_model"]]
            + stats.gamma(pr.nu_alpha, scale=1.0 / pr.nu_beta).logpdf(nu) + theta[o["nu"]]
            + stats.t(nu, 0.0, s ** (1.0 - gm.centring)).logpdf(raw).sum())
    mi, ii = meas.method_index, meas.model_index
    design = np.zeros((meas.n_obs, 2 * m))
    design[np.arange(meas.n_obs), mi] = 1.0
    design[np.arange(meas.n_obs), m + mi] = meas.year[ii] - gm.year_ref
    one = np.ones((m, m))
    prior_cov = np.zeros((2 * m, 2 * m))
    prior_cov[:m, :m] = ta**2 * np.eye(m) + pr.intercept_sd**2 * one
    prior_cov[m:, m:] = tb**2 * np.eye(m) + pr.slope_sd**2 * one
    prior_mean = np.concatenate([np.full(m, lin.c0[0]), np.full(m, lin.c0[m + 1])])
    offset = np.exp(val["log_loading"])[mi] * val["model_effect"][ii]
    mean = design @ prior_mean + terms.design @ terms.prior_mean + offset
    cov = ((meas.eigvecs * meas.eigvals) @ meas.eigvecs.T + sw**2 * np.eye(meas.n_obs)
           + design @ prior_cov @ design.T + (terms.design * terms.prior_sd**2) @ terms.design.T)
    return logp + stats.multivariate_normal(mean, cov).logpdf(meas.center)


def test_repaired_density_is_the_model_written_out(repaired_model):
    gm, _, _ = repaired_model
    assert gm.priors.scatter_method_sd == -RepairedPriors().scatter_method_mean
    assert gm.linear.n_extra == gm.contrasts.n_terms and gm.linear.p0.size == 2 * 3 + 2 + gm.contrasts.n_terms
    rng = np.random.default_rng(2)
    for _ in range(3):
        theta = gm.density.initial_point() + rng.normal(0, 0.4, gm.density.size)
        assert gm.density.logp_and_grad(theta)[0] == pytest.approx(_written_out(gm, theta), rel=1e-9)


def test_repaired_kernel_equals_the_numpy_reference_and_finite_differences(repaired_model):
    density = repaired_model[0].density
    rng = np.random.default_rng(3)
    for scale in (0.3, 1.0, 2.0):
        theta = density.initial_point() + rng.normal(0, scale, density.size)
        logp, grad = density.logp_and_grad(theta)
        ref_logp, ref_grad = density.logp_and_grad_reference(theta)
        assert logp == pytest.approx(ref_logp, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10)
    theta = density.initial_point() + rng.normal(0, 0.5, density.size)
    _, grad = density.logp_and_grad(theta)
    h = 1e-6
    numeric = np.array([(density.logp_and_grad(theta + h * e)[0] - density.logp_and_grad(theta - h * e)[0]) / (2 * h)
                        for e in np.eye(density.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # compiles the PyTensor graph of the model
def test_repaired_numpy_density_equals_the_pymc_graph():
    from pymc.blocking import DictToArrayBijection

    data, _ = sawtooth_data(n_models=14, n_draws=300)
    fast, ref = build_model(data, variant="repaired"), build_model(data, variant="repaired", backend="pytensor")
    assert ref.contrasts is not None and ref.model["scatter_method"].owner.op.name == "gamma"
    density = fast.density
    f = ref.model.logp_dlogp_function(ravel_inputs=True)
    f.set_extra_values({})
    rng = np.random.default_rng(0)
    offsets = density._offsets()

    def key(name):
        return name.removesuffix("_log__").removesuffix("_zerosum__").replace("model_effect_raw", "raw")

    for _ in range(3):
        theta = density.initial_point() + rng.normal(0, 0.6, density.size)
        logp, grad = density.logp_and_grad(theta)
        point = {v.name: np.atleast_1d(theta[offsets[key(v.name)]]) for v in ref.model.value_vars}
        ref_logp, ref_grad = f(DictToArrayBijection.map(point).data)
        assert logp == pytest.approx(float(ref_logp), abs=1e-6)
        mapped = np.concatenate([np.atleast_1d(grad[offsets[key(k)]]) for k in point])
        np.testing.assert_allclose(mapped, ref_grad, rtol=1e-6, atol=1e-8)


# -------------------------------------------------------------------- coefficient draws


def test_repaired_coefficient_draws_follow_the_gaussian_conditional(repaired_model):
    gm, _, _ = repaired_model
    meas, terms, pr = gm.measurement, gm.contrasts, gm.priors
    m = len(meas.methods)
    rng = np.random.default_rng(1)
    values = {"log_loading": np.array([0.1, -0.3, 0.2]), "intercept_spread": 0.8, "slope_spread": 0.05,
              "scatter_method": 0.05, "model_effect": rng.normal(0, 0.4, len(meas.model))}
    n = 20_000
    post = xr.Dataset({
        "log_loading": (("chain", "draw", DIM_COST_METHOD), np.broadcast_to(values["log_loading"], (1, n, 3))),
        "model_effect": (("chain", "draw", "model"), np.broadcast_to(values["model_effect"], (1, n, len(meas.model)))),
        **{k: (("chain", "draw"), np.full((1, n), values[k])) for k in ("intercept_spread", "slope_spread",
                                                                      "scatter_method")},
    })
    out = draw_coefficients(gm, post, np.random.default_rng(2))
    assert out["contrast_coef"].shape == (1, n, terms.n_terms)
    beta = np.concatenate([out["intercept"][0], out["slope"][0], out["contrast_coef"][0]], axis=1)
    # the same Gaussian conditional, built in the original space
    mi, ii = meas.method_index, meas.model_index
    design = np.zeros((meas.n_obs, 2 * m))
    design[np.arange(meas.n_obs), mi] = 1.0
    design[np.arange(meas.n_obs), m + mi] = meas.year[ii] - gm.year_ref
    design = np.concatenate([design, terms.design], axis=1)
    k = design.shape[1]
    prior_cov = np.zeros((k, k))
    prior_cov[:m, :m] = 0.8**2 * np.eye(m) + pr.intercept_sd**2
    prior_cov[m:2 * m, m:2 * m] = 0.05**2 * np.eye(m) + pr.slope_sd**2
    prior_cov[2 * m:, 2 * m:] = np.diag(terms.prior_sd**2)
    lin = gm.linear
    prior_mean = np.concatenate([np.full(m, lin.c0[0]), np.full(m, lin.c0[m + 1]), terms.prior_mean])
    noise = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T + 0.05**2 * np.eye(meas.n_obs)
    offset = np.exp(values["log_loading"])[mi] * values["model_effect"][ii]
    noise_inv = np.linalg.inv(noise)
    cov = np.linalg.inv(np.linalg.inv(prior_cov) + design.T @ noise_inv @ design)
    mean = cov @ (np.linalg.solve(prior_cov, prior_mean) + design.T @ noise_inv @ (meas.center - offset))
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_array_less(np.abs(beta.mean(axis=0) - mean), 5 * sd / np.sqrt(n))
    np.testing.assert_allclose(np.cov(beta, rowvar=False), cov, rtol=0.06, atol=0.03 * sd.max() ** 2)


# ---------------------------------------------------------------------------- LOO terms


def test_pointwise_terms_include_the_contrast_terms(repaired_model):
    from uncertain_cost.growth.loo import pointwise_loglik

    gm, _, _ = repaired_model
    meas, terms = gm.measurement, gm.contrasts
    rng = np.random.default_rng(0)
    m, k = len(meas.methods), len(meas.model)
    post = xr.Dataset({
        "intercept": (("chain", "draw", DIM_COST_METHOD), rng.normal(7.0, 0.5, (1, 2, m))),
        "slope": (("chain", "draw", DIM_COST_METHOD), rng.normal(0.4, 0.05, (1, 2, m))),
        "model_effect": (("chain", "draw", "model"), rng.normal(0.0, 0.3, (1, 2, k))),
        "log_loading": (("chain", "draw", DIM_COST_METHOD), rng.normal(0.0, 0.2, (1, 2, m))),
        "scatter_method": (("chain", "draw"), rng.uniform(0.05, 0.2, (1, 2))),
        "contrast_coef": (("chain", "draw", DIM_CONTRAST), rng.normal(0.0, 0.3, (1, 2, terms.n_terms))),
    })
    ll = pointwise_loglik(gm, post, integrate_effect=False)
    cov = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    mi, ii = meas.method_index, meas.model_index
    p = post.isel(chain=0, draw=1)
    mu = (p["intercept"].values[mi] + p["slope"].values[mi] * (meas.year[ii] - gm.year_ref)
          + np.exp(p["log_loading"].values)[mi] * p["model_effect"].values[ii]
          + terms.design @ p["contrast_coef"].values)
    rows = np.flatnonzero(mi == 1)
    sigma = cov[np.ix_(rows, rows)] + float(p["scatter_method"]) ** 2 * np.eye(rows.size)
    t, rest = 0, np.arange(1, rows.size)
    gain = np.linalg.solve(sigma[np.ix_(rest, rest)], sigma[rest, t])
    mean = mu[rows[t]] + gain @ (meas.center[rows[rest]] - mu[rows[rest]])
    var = sigma[t, t] - sigma[t, rest] @ gain
    assert ll[0, 1, rows[t]] == pytest.approx(stats.norm.logpdf(meas.center[rows[t]], mean, np.sqrt(var)), rel=1e-8)


def _fake_fit(methods, models, values):
    import arviz as az

    obs_method = [m for m in methods for _ in models]
    obs_model = [name for _ in methods for name in models]
    ds = xr.Dataset({"log10_cost": (("chain", "draw", "observation"), values)},
                    coords={"observation": np.arange(len(obs_model)), "observation_method": ("observation", obs_method),
                            "observation_model": ("observation", obs_model)})
    return SimpleNamespace(methods=tuple(methods), idata=az.InferenceData(log_likelihood=ds))


@pytest.mark.parametrize(("repaired_shift", "expect"), [(0.0, "single"), (-2.0, "repaired"), (1.0, "single")])
def test_repaired_is_a_third_candidate(repaired_shift, expect):
    """The repaired fit leads only when it beats the simpler candidates by more than 2 SE."""
    from uncertain_cost.growth.loo import compare_fits

    methods, models = ("amortized", "cloud"), [f"m{i}" for i in range(20)]
    rng = np.random.default_rng(4)
    base = {mth: rng.normal(-1.0, 0.3, len(models)) + rng.normal(0, 0.05, (2, 400, len(models))) for mth in methods}
    singles = {mth: _fake_fit((mth,), models, base[mth]) for mth in methods}
    joint = _fake_fit(methods, models, np.concatenate([base[mth] - 0.5 + rng.normal(0, 0.5, len(models))
                                                       for mth in methods], axis=-1))
    repaired = _fake_fit(methods, models, np.concatenate([base[mth] - repaired_shift + rng.normal(0, 0.5, len(models))
                                                          for mth in methods], axis=-1))
    rows = compare_fits(joint, singles, repaired)
    for mth in methods:
        mine = [r for r in rows if r["method"] == mth]
        assert {r["model"] for r in mine} == {"single", "joint", "repaired"}
        assert [r["rank"] for r in mine] == [1, 2, 3]
        assert [r["model"] for r in mine if r["headline"]] == [expect]


# ------------------------------------------------------------------ predictive check


def _fake_result(gm, data, truth, with_contrasts):
    """A fit whose posterior sits at the truth of `sawtooth_data`; the joint one has no contrast terms.

    With the contrast terms, the model's per-model effect is ``v - 0.14 * age_resid`` (the
    amortized depreciation off the age line) and the amortized line carries ``-0.14 * age``'s
    line in year; the other methods get ``+0.14 * age_resid`` back from their age terms.
    """
    meas = gm.measurement
    n_chain, n_draw, m = 2, 300, 3
    index = {name: k for k, name in enumerate(data.model)}
    rows = np.array([index[name] for name in meas.model])
    level = 6.3 + 0.4 * (gm.year_ref - 2020.0)
    intercept, slope, effect = np.array([level, level + 0.3, level + 1.3]), np.full(m, 0.4), truth["v"][rows]
    const = {"log10_cost_observed": ("observation", meas.center)}
    post = {"log_loading": (("chain", "draw", DIM_COST_METHOD), np.zeros((n_chain, n_draw, m))),
            "scatter_method": (("chain", "draw"), np.full((n_chain, n_draw), 0.03))}
    if with_contrasts:
        terms = gm.contrasts
        a0, a1 = terms.age_trend
        intercept = intercept - np.array([0.14 * (a0 + a1 * gm.year_ref), 0.0, 0.0])
        slope = slope - np.array([0.14 * a1, 0.0, 0.0])
        effect = effect - 0.14 * terms.age_residual
        coef = np.array([0.14 if kind == "age" else 0.0 for kind in terms.kind])
        for k, (mth, chip) in enumerate(zip(terms.method, terms.chip, strict=True)):
            if chip:
                coef[k] = (truth["chip_cloud"] if mth == "cloud" else truth["chip_acq"])[int(chip.split()[-1])]
        post["contrast_coef"] = (("chain", "draw", DIM_CONTRAST), np.broadcast_to(coef, (n_chain, n_draw, coef.size)))
        const["contrast_design"] = (("observation", DIM_CONTRAST), terms.design)
    post["intercept"] = (("chain", "draw", DIM_COST_METHOD), np.broadcast_to(intercept, (n_chain, n_draw, m)))
    post["slope"] = (("chain", "draw", DIM_COST_METHOD), np.broadcast_to(slope, (n_chain, n_draw, m)))
    post["model_effect"] = (("chain", "draw", "model"), np.broadcast_to(effect, (n_chain, n_draw, effect.size)))
    idata = SimpleNamespace(posterior=xr.Dataset(post), constant_data=xr.Dataset(const))
    return SimpleNamespace(idata=idata, year_ref=gm.year_ref)


def test_contrast_ppc_tells_the_sawtooth_apart(repaired_model):
    gm, data, truth = repaired_model
    meas = gm.measurement
    index = {name: k for k, name in enumerate(data.model)}
    chips = [data.chip[index[name]] for name in meas.model]
    out = {}
    for name, with_contrasts in (("joint", False), ("repaired", True)):
        rows = contrast_ppc(_fake_result(gm, data, truth, with_contrasts), meas, chips,
                            rng=np.random.default_rng(0), n_replicates=400, fit=name)
        assert all(tuple(r) == PPC_COLUMNS for r in rows) and len(rows) == 4
        out[name] = {(r["contrast"], r["statistic"]): r for r in rows}
    key = ("cloud-amortized", "within_chip_trend")
    observed = out["joint"][key]["observed"]
    assert observed == out["repaired"][key]["observed"] and observed > 0.08  # the sawtooth, ~ +0.14 per year
    assert out["joint"][key]["percentile"] > 0.99  # a line in time cannot make it
    assert 0.05 < out["repaired"][key]["percentile"] < 0.95
    assert out["repaired"][key]["replicated_p5"] < observed < out["repaired"][key]["replicated_p95"]
    with pytest.raises(ValueError, match="does not match"):
        contrast_ppc(_fake_result(gm, data, truth, False), measurement(data.select(["amortized", "cloud"])),
                     chips, rng=np.random.default_rng(0))


# ------------------------------------------------------------------------------- fits


@pytest.mark.slow  # samples: a short repaired fit of simulated sawtooth data
def test_repaired_fit_recovers_the_depreciation_coefficient():
    from uncertain_cost.growth import fit_bayes

    data, _ = sawtooth_data(seed=1, n_models=40)
    fit = fit_bayes(data, seed=3, draws=500, tune=500, chains=2, variant="repaired", r_hat_threshold=1.05,
                    ess_threshold=100)
    post = fit.idata.posterior
    assert "contrast_coef" in post and "log10_cost" in fit.idata.log_likelihood
    age = post["contrast_coef"].sel({DIM_CONTRAST: "cloud: chip age"}).values.ravel()
    lo, hi = np.quantile(age, [0.05, 0.95])
    assert lo < 0.14 < hi and hi - lo < 0.25
    assert fit.diagnostics.divergences == 0
    assert "contrast_design" in fit.idata.constant_data


def test_nutpie_callback_buffer_gives_the_repaired_kernel(repaired_model):
    """The packed buffer nutpie's C callback reads carries the extra contrast columns exactly."""
    from uncertain_cost.growth.native import native_logp

    gm = repaired_model[0] if isinstance(repaired_model, tuple) else repaired_model
    density = gm.density
    rng = np.random.default_rng(12)
    for _ in range(4):
        theta = density.initial_point() + rng.normal(0.0, 0.3, density.size)
        value, grad = native_logp(density, theta)
        ref_value, ref_grad = density.logp_and_grad(theta)
        assert value == ref_value
        np.testing.assert_array_equal(grad, ref_grad)
