"""The growth model's log density as one PyTensor op, with a numba implementation for nutpie.

`LogDensityOp` takes ``theta`` and the model's constant arrays as inputs (so the op has no
state and its numba translation is cached on disk like any PyTensor op) and returns the log
density and its gradient from one call of the numba kernel of `uncertain_cost.growth.kernel`.
PyMC's own NUTS calls `LogDensityOp.perform` from Python; nutpie compiles the model with
PyTensor's numba backend, where `numba_funcify` (registered here) inlines the same kernel,
so Rust NUTS evaluates the density without returning to Python.
"""

from __future__ import annotations

import numpy as np

__all__ = ["density_inputs", "log_density"]

_REGISTERED = False


def density_inputs(density) -> list[np.ndarray]:
    """List the constant inputs of `LogDensityOp` for one `LogDensity`, in the kernel's order.

    Parameters
    ----------
    density : uncertain_cost.growth.density.LogDensity

    Returns
    -------
    list of ndarray
        ``x_rot, y_rot, xc0, p0, eigvals, vt, method_index, model_index, centring, basis`` and
        one float vector of the scalars ``prior_logdet`` and the eight prior parameters.
    """
    pr, lin, meas = density.priors, density.linear, density.measurement
    scalars = np.array([lin.prior_logdet, pr.intercept_spread_sd, pr.slope_spread_sd, pr.loading_sd,
                        pr.scatter_method_sd, pr.scatter_model_mean, pr.nu_alpha, pr.nu_beta], dtype=np.float64)
    arrays = [lin.x_rot, lin.y_rot, density._xc0, lin.p0, meas.eigvals, density._vt]
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
    ints = [np.ascontiguousarray(meas.method_index, dtype=np.int64),
            np.ascontiguousarray(meas.model_index, dtype=np.int64)]
    rest = [np.ascontiguousarray(density.centring, dtype=np.float64),
            np.ascontiguousarray(density._basis, dtype=np.float64)]
    return [*arrays, *ints, *rest, scalars]


def _call(theta, x_rot, y_rot, xc0, p0, eigvals, vt, mi, ii, centring, basis, s, kernel):
    return kernel(theta, x_rot, y_rot, xc0, p0, s[0], eigvals, vt, mi, ii, centring, basis,
                  s[1], s[2], s[3], s[4], s[5], s[6], s[7])


def _op_class():
    import pytensor.tensor as pt
    from pytensor.gradient import DisconnectedType
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    class LogDensityOp(Op):
        """``(theta, *constants) -> (log density, gradient)`` of the growth model."""

        __props__ = ()

        def make_node(self, theta, *constants):
            inputs = [pt.as_tensor_variable(theta), *(pt.as_tensor_variable(c) for c in constants)]
            return Apply(self, inputs, [pt.dscalar(), pt.dvector()])

        def perform(self, node, inputs, outputs):
            from uncertain_cost.growth.kernel import logp_and_grad

            logp, grad = _call(np.ascontiguousarray(inputs[0], dtype=np.float64), *inputs[1:], kernel=logp_and_grad)
            outputs[0][0] = np.asarray(logp, dtype=np.float64)
            outputs[1][0] = grad

        def connection_pattern(self, node):
            return [[True, True]] + [[False, False]] * (len(node.inputs) - 1)

        def L_op(self, inputs, outputs, output_grads):
            return [output_grads[0] * outputs[1]] + [DisconnectedType()() for _ in inputs[1:]]

    return LogDensityOp


_OP = None


def _register(op_type) -> None:
    from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_default_op_cache_key

    from uncertain_cost.growth.kernel import logp_and_grad as kernel

    @register_funcify_default_op_cache_key(op_type)
    def _funcify(op, node=None, **kwargs):
        @numba_njit
        def log_density_numba(theta, x_rot, y_rot, xc0, p0, eigvals, vt, mi, ii, centring, basis, s):
            logp, grad = kernel(theta, x_rot, y_rot, xc0, p0, s[0], eigvals, vt, mi, ii, centring, basis,
                                s[1], s[2], s[3], s[4], s[5], s[6], s[7])
            return np.asarray(logp), grad

        return log_density_numba, 1


def log_density(density, theta):
    """Build the log density of ``density`` at the PyTensor vector ``theta`` (gradient from the same op).

    Parameters
    ----------
    density : uncertain_cost.growth.density.LogDensity
    theta : pytensor.tensor.TensorVariable

    Returns
    -------
    pytensor.tensor.TensorVariable
        Scalar log density.
    """
    global _OP, _REGISTERED
    if _OP is None:
        _OP = _op_class()
    if not _REGISTERED:
        _register(_OP)
        _REGISTERED = True
    import pytensor

    # shared variables, not constants: the compiled graph does not depend on the data, so
    # nutpie's numba translation is reused from the disk cache by every fit
    names = ("x_rot", "y_rot", "xc0", "p0", "eigvals", "vt", "method_index", "model_index", "centring", "basis",
             "scalars")
    shared = [pytensor.shared(value, name=f"growth_{name}") for name, value in zip(names, density_inputs(density),
                                                                                    strict=True)]
    return _OP()(theta, *shared)[0]
