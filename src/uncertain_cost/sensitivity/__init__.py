"""Sensitivity analysis over a vectorized model function: tornado and Sobol indices.

Everything here is generic: an *input* is any object with ``name``, a vectorized inverse
CDF ``ppf(u)`` and optionally ``group``; the *model function* is ``f(X) -> Y`` with ``X``
of shape ``(n_rows, k)`` (input values, column ``i`` for ``inputs[i]``) and ``Y`` of shape
``(n_rows,)`` or ``(n_rows, n_targets)``. A growth-rate sensitivity is just such an ``f``
whose target is the fitted slope.

Stages, as in SALib: design (:func:`sobol_design`) -> evaluate ``f`` -> analyze
(:func:`sobol_indices`); :func:`sobol` and :func:`tornado` run all three.
"""

import sys
import types

from uncertain_cost.lazy import lazy_exports

#: public name -> the module that defines it; imported on first use (PEP 562), so that parsing a
#: config (which imports this package's ``settings``) imports none of the numerical modules
_EXPORTS = {
    "ModelFunction": "uncertain_cost.sensitivity._common",
    "SensitivityInput": "uncertain_cost.sensitivity._common",
    "design_blocks": "uncertain_cost.sensitivity.design",
    "from_salib_layout": "uncertain_cost.sensitivity.design",
    "sobol_design": "uncertain_cost.sensitivity.design",
    "SobolResult": "uncertain_cost.sensitivity.sobol",
    "sobol": "uncertain_cost.sensitivity.sobol",
    "sobol_indices": "uncertain_cost.sensitivity.sobol",
    "TornadoResult": "uncertain_cost.sensitivity.tornado",
    "format_value": "uncertain_cost.sensitivity.tornado",
    "plot_tornado": "uncertain_cost.sensitivity.tornado",
    "tornado": "uncertain_cost.sensitivity.tornado",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


#: functions named as the submodule that defines them: the package attribute is the function
_SHADOWED = ("sobol", "tornado")


class _Package(types.ModuleType):
    """Module type of the package: importing a submodule does not replace its function of the same name."""

    def __setattr__(self, name: str, value) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the import system binds submodules to the package; the function stays (as when eager)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
