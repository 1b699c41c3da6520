"""uncertain_cost: the cost of training frontier AI models, with honest uncertainty."""

from uncertain_cost.caches import setup_caches

setup_caches()  # before numba, PyTensor, matplotlib or ArviZ are imported


from uncertain_cost.errors import (  # noqa: E402
    ConfigError,
    DataError,
    DiagnosticsError,
    UncertainCostError,
    UncertainCostWarning,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "ConfigError",
    "DataError",
    "DiagnosticsError",
    "UncertainCostError",
    "UncertainCostWarning",
]
