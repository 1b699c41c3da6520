"""Full development cost: R&D staff plus the compute of all experiments (method.md section 7).

Cottier et al. (2024, arXiv:2405.21015) estimate, for a few well-documented models, the
whole cost of developing them rather than only the final training run::

    compute   = amortized components (chips, other server, interconnect, energy)
                * experiment_factor          (all compute / final-run compute)
    staff     = sum over contributors of (salary * overhead + equity) * FTE * project_years
    total     = staff + compute

The package parses the ``[development]`` config section (:func:`parse_development`), draws
the staff cost and the experiment factor, multiplies the main run's per-draw amortized
components by the experiment factor (:func:`development_cost`) and summarizes, labels and
plots the result (:class:`DevCostResult`, :func:`plot_devcost`).

What differs from the paper (each on purpose, see ``docs/devcost.md``):

- every contributor's salary, overhead, equity and FTE are drawn independently for every
  draw and summed exactly (the paper drew equity once per contributor and reused it in
  every sample for GPT-3, OPT-175B and GPT-4, which understated the uncertainty);
- the compute components are the engine's own correlated draws times an experiment-factor
  draw, not a lognormal fitted to three percentiles of each component separately;
- totals and shares are distributions of per-draw sums; the paper's figure (the sum of the
  component medians) is reported next to them for comparison.


Modules: :mod:`.spec` (the model as data), :mod:`.parse` (the config section),
:mod:`.sampling` (draws), :mod:`.result` (summaries and labels), :mod:`.plot` (figure).
"""

from uncertain_cost.lazy import lazy_exports

#: public name -> the module that defines it; imported on first use (PEP 562), so that parsing a
#: config (which imports this package's ``settings``) imports none of the numerical modules
_EXPORTS = {
    "default_priors_path": "uncertain_cost.devcost.parse",
    "load_development_defaults": "uncertain_cost.devcost.parse",
    "parse_development": "uncertain_cost.devcost.parse",
    "plot_devcost": "uncertain_cost.devcost.plot",
    "DevCostResult": "uncertain_cost.devcost.result",
    "development_cost": "uncertain_cost.devcost.sampling",
    "staff_cost_at_central": "uncertain_cost.devcost.sampling",
    "DEV_COMPONENTS": "uncertain_cost.devcost.spec",
    "DIM_ROLE": "uncertain_cost.devcost.spec",
    "DevelopmentSpec": "uncertain_cost.devcost.spec",
    "DevInput": "uncertain_cost.devcost.spec",
    "ModelDevSpec": "uncertain_cost.devcost.spec",
    "RoleSpec": "uncertain_cost.devcost.spec",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "DEV_COMPONENTS",
    "DIM_ROLE",
    "DevInput",
    "RoleSpec",
    "ModelDevSpec",
    "DevelopmentSpec",
    "DevCostResult",
    "default_priors_path",
    "load_development_defaults",
    "parse_development",
    "staff_cost_at_central",
    "development_cost",
    "plot_devcost",
]
