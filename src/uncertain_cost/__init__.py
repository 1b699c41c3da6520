"""uncertain_cost: the cost of training frontier AI models, with honest uncertainty.

>>> import uncertain_cost as uc                         # doctest: +SKIP
>>> result = uc.run("config.toml", draws=1000, seed=3)  # doctest: +SKIP
>>> result.summary()                                    # doctest: +SKIP
"""

__version__ = "0.1.0"

from uncertain_cost.caches import setup_caches

setup_caches()  # before numba, PyTensor, matplotlib or ArviZ are imported

#: The modules that declare and register the config sections their packages own, in parse
#: order; the config layer imports them by name when the first config is parsed (it imports none
#: of the domain packages itself, and ``import uncertain_cost`` stays light).
SECTION_OWNERS = (
    "uncertain_cost.sampling.copula",  # [correlations]
    "uncertain_cost.data.selection",  # [selection]
    "uncertain_cost.sensitivity.settings",  # [sensitivity]
    "uncertain_cost.devcost.parse",  # [development]
    "uncertain_cost.growth.settings",  # [growth], [forecast]
    "uncertain_cost.data.utilization",  # the utilization input under [data] impute = "all"
)


from uncertain_cost.errors import (  # noqa: E402
    ConfigError,
    DataError,
    DiagnosticsError,
    UncertainCostError,
    UncertainCostWarning,
)


def __getattr__(name: str):
    """Import the API lazily, so that ``import uncertain_cost`` and ``--help`` stay light."""
    if name in ("run", "write", "estimate", "load_config", "example_config", "example_names", "Estimate"):
        from uncertain_cost import api

        return getattr(api, name)
    if name == "RunResult":
        from uncertain_cost.result import RunResult

        return RunResult
    if name == "Config":
        from uncertain_cost.config import Config

        return Config
    raise AttributeError(f"module 'uncertain_cost' has no attribute {name!r}")


__all__ = [
    "__version__",
    "run",
    "write",
    "estimate",
    "load_config",
    "example_config",
    "example_names",
    "Config",
    "Estimate",
    "RunResult",
    "ConfigError",
    "DataError",
    "DiagnosticsError",
    "UncertainCostError",
    "UncertainCostWarning",
]
