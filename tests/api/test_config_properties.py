"""Property tests (Hypothesis): every config document and every estimate argument gives a valid result or one line.

Generated documents mix the real section and key names with arbitrary ones and arbitrary
TOML values (bools, huge integers, NaN and infinities, long strings, dates, nested tables and
arrays). Every outcome must be a :class:`~uncertain_cost.config.Config` (with its scenarios)
or the package's own error, one bounded line; never another exception. The default suite runs
a small budget; the ``slow`` twins run thousands of cases.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uncertain_cost as uc
from uncertain_cost.config import SECTIONS, parse_config
from uncertain_cost.config.scenarios import scenario_configs
from uncertain_cost.config.sections import DATA, EXECUTION, REPORT, RUN
from uncertain_cost.data.selection import SELECTION
from uncertain_cost.errors import UncertainCostError
from uncertain_cost.growth.settings import FORECAST, GROWTH
from uncertain_cost.inputs import INPUT_DEFINITIONS
from uncertain_cost.sensitivity.settings import SENSITIVITY

#: longest error line allowed (ConfigError bounds key, message and source)
MAX_LINE = 1200
SMALL = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LARGE = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_KEYS = {s.name: s.names for s in (RUN, DATA, REPORT, EXECUTION, SELECTION, GROWTH, FORECAST, SENSITIVITY)}
_KEYS["inputs"] = tuple(INPUT_DEFINITIONS)
_KEYS["correlations"] = ("pairs",)
_KEYS["development"] = ("enabled", "models", "equity", "salary", "experiment_factor", "GPT-4", "OPT-175B")
_KEYS["scenarios"] = ("base", "more", "a b")
_DIST_KEYS = ("dist", "ci90", "median", "low", "high", "value", "values", "scope", "chip_key", "components",
              "weights", "source", "sigma", "count", "contributors", "roles", "project_days")
_WORDS = ("drop", "add_base", "top_n", "nutpie", "dask", "local", "lognormal", "uniform", "shared", "per_chip",
          "2023-12", "2024-01-01", "none", "GPT-4", "tcp://127.0.0.1:8786", "not a url::", "")

_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 10, 100, 1000, 2**63 - 1, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.05, 0.5, 0.9, 0.95, 1.0, 1.5, 20.0]),
    st.sampled_from(_WORDS),
    st.text(max_size=30),
    st.text(min_size=1, max_size=3).map(lambda s: s * 5000),  # long strings
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(_DIST_KEYS), st.text(max_size=8)), inner,
                                            max_size=4)),
    max_leaves=12,
)


@st.composite
def _documents(draw):
    names = draw(st.lists(st.one_of(st.sampled_from(SECTIONS), st.text(max_size=6)), max_size=4, unique=True))
    doc = {}
    for name in names:
        if draw(st.integers(0, 9)) == 0:
            doc[name] = draw(_values)  # a section that is not a table
            continue
        known = _KEYS.get(name, ())
        keys = st.one_of(st.sampled_from(known), st.text(max_size=8)) if known else st.text(max_size=8)
        doc[name] = draw(st.dictionaries(keys, _values, max_size=4))
    return doc


def _check_outcome(call):
    """Run ``call``: it returns, or raises the package's error as one bounded line; nothing else."""
    try:
        return call()
    except UncertainCostError as exc:
        text = str(exc)
        assert "\n" not in text and len(text) < MAX_LINE, text[:300]
        return None


def _parse_with_scenarios(doc):
    config = parse_config(doc)
    scenario_configs(config)
    return config


@SMALL
@given(_documents())
def test_any_document_is_a_config_or_one_line(doc):
    _check_outcome(lambda: _parse_with_scenarios(doc))


@pytest.mark.slow
@LARGE
@given(_documents())
def test_any_document_is_a_config_or_one_line_many(doc):
    _check_outcome(lambda: _parse_with_scenarios(doc))


_toml_fragments = st.sampled_from([
    "[run]\n", "[inputs.gpu_price]\n", "[selection]\n", "[growth]\n", "[[x]]\n", "draws = ", "ci90 = ", "1", "1e999",
    "nan", "inf", "-0", "0x10", "'a'", '"\\u0000"', "[", "]", "{", "}", "{a = 1}", ",", "=", "\n", "\"", "'''", "#",
    "1979-05-27", "1979-05-27T07:32:00Z", "true", "\xe9", "\ufeff", "\x00", "a.b.c = 1\n", "seed = -5\n",
])


def _load_text(text: str):
    handle, path = tempfile.mkstemp(suffix=".toml")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8", "surrogatepass"))
        return uc.load_config(path)
    finally:
        os.unlink(path)


@SMALL
@given(st.lists(st.one_of(_toml_fragments, st.text(max_size=10)), max_size=12).map("".join))
def test_any_toml_text_is_a_config_or_one_line(text):
    _check_outcome(lambda: _load_text(text))


@pytest.mark.slow
@LARGE
@given(st.lists(st.one_of(_toml_fragments, st.text(max_size=10)), max_size=12).map("".join))
def test_any_toml_text_is_a_config_or_one_line_many(text):
    _check_outcome(lambda: _load_text(text))


_argument = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.dates(), st.sampled_from(["H100", "2024-01-01", "1e5", "2023-12", 1000, 30, 1e300]),
)


def _estimate(**changes):
    kw = {"chip": "H100", "quantity": 100, "days": 30, "start": "2024-01-01", "draws": 200, **changes}
    result = uc.estimate(**kw)
    for row in result.rows:  # a result is finite and ordered
        assert math.isfinite(row["median_usd"]) and 0 < row["p5_usd"] <= row["median_usd"] <= row["p95_usd"]
    return result


_changes = st.dictionaries(st.sampled_from(["chip", "quantity", "days", "start", "draws", "seed", "organization",
                                            "reference_month"]), _argument, max_size=3)


@SMALL
@given(_changes)
def test_any_estimate_arguments_give_a_result_or_one_line(changes):
    _check_outcome(lambda: _estimate(**changes))


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_changes)
def test_any_estimate_arguments_give_a_result_or_one_line_many(changes):
    _check_outcome(lambda: _estimate(**changes))


def test_the_properties_can_fail():
    """The checker of outcomes rejects another exception and an unbounded line (it can fail)."""
    with pytest.raises(ZeroDivisionError):
        _check_outcome(lambda: 1 / 0)
    with pytest.raises(AssertionError):
        _check_outcome(lambda: (_ for _ in ()).throw(UncertainCostError("x" * 5000)))
