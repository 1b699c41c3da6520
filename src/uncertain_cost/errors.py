"""Exceptions and warnings raised for users (not for programming errors)."""

from __future__ import annotations


class UncertainCostError(Exception):
    """Base class of every error meant to be shown to a user as one line.

    Attributes
    ----------
    exit_code : int
        Process exit code the command line uses: 2 for an input error (the default), 1
        for an environment error (:class:`ResourceError`).
    """

    exit_code = 2


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


class OutputError(UncertainCostError):
    """An output path is refused: not a run folder of this tool, ``/``, a busy destination."""


class ResourceError(UncertainCostError):
    """The machine cannot do what was asked: a read-only place, a full disk, too little memory.

    An environment error, not an input error: the command line exits with 1.
    """

    exit_code = 1
