"""Sensitivity analysis over a vectorized model function: tornado and Sobol indices.

Everything here is generic: an *input* is any object with ``name``, a vectorized inverse
CDF ``ppf(u)`` and optionally ``group``; the *model function* is ``f(X) -> Y`` with ``X``
of shape ``(n_rows, k)`` (input values, column ``i`` for ``inputs[i]``) and ``Y`` of shape
``(n_rows,)`` or ``(n_rows, n_targets)``. A growth-rate sensitivity is just such an ``f``
whose target is the fitted slope.

Stages, as in SALib: design (:func:`sobol_design`) -> evaluate ``f`` -> analyze
(:func:`sobol_indices`); :func:`sobol` and :func:`tornado` run all three.
"""

from uncertain_cost.sensitivity._common import ModelFunction, SensitivityInput
from uncertain_cost.sensitivity.design import design_blocks, from_salib_layout, sobol_design
from uncertain_cost.sensitivity.sobol import SobolResult, sobol, sobol_indices
from uncertain_cost.sensitivity.tornado import (
    TornadoResult,
    format_value,
    plot_tornado,
    tornado,
)

__all__ = [
    # protocols
    "SensitivityInput",
    "ModelFunction",
    # tornado
    "TornadoResult",
    "tornado",
    "plot_tornado",
    "format_value",
    # Sobol
    "SobolResult",
    "sobol_design",
    "design_blocks",
    "from_salib_layout",
    "sobol_indices",
    "sobol",
]
