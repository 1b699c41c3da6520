"""Exceptions and warnings raised for users (not for programming errors)."""

from __future__ import annotations


class UncertainCostError(Exception):
    """Base class of every error meant to be shown to a user as one line."""


class ConfigError(UncertainCostError):
    """A configuration value is missing, of the wrong type, or out of range.

    Parameters
    ----------
    key : str
        Dotted path of the offending key, e.g. ``"inputs.gpu_price.ci90"``.
    message : str
        What was expected and what was given.
    source : str, optional
        File the key came from.
    """

    def __init__(self, key: str, message: str, source: str | None = None):
        self.key = key
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {message}")


class DataError(UncertainCostError):
    """A data table cannot be read (missing file or required column, bad row)."""


class UncertainCostWarning(UserWarning):
    """Warnings issued by uncertain_cost (bad diagnostics, skipped rows, ...)."""


class DiagnosticsError(UncertainCostError):
    """A Bayesian fit failed its convergence checks and the config asked to fail."""
