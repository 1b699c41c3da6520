"""Exceptions and warnings raised for users (not for programming errors)."""

from __future__ import annotations

import re

#: longest key and message of a ConfigError (a value is shortened where the message is made)
MAX_KEY_CHARACTERS = 200
MAX_MESSAGE_CHARACTERS = 600


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def bounded(text: str, limit: int) -> str:
    """Return ``text`` on one line (control characters escaped), cut to ``limit`` characters (length stated)."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


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
        self.key = key = bounded(str(key), MAX_KEY_CHARACTERS)
        self.message = message = bounded(str(message), MAX_MESSAGE_CHARACTERS)
        self.source = source
        where = f"{bounded(str(source), 300)}: " if source else ""
        super().__init__(f"{where}{key}: {message}")


class ArgumentError(ConfigError, ValueError):
    """A bad argument to a function of the package, one that no config key sets.

    The message names the function and the argument (``GrowthPriors: slope_sd: expected a
    positive number, got 0``), not a config key, so that every error naming a dotted config
    key names one a config can set.

    Parameters
    ----------
    argument : str
        The argument's name.
    message : str
        What was expected and what was given.
    function : str, optional
        The function or class that took it.
    """

    def __init__(self, argument: str, message: str, function: str | None = None):
        super().__init__(argument, message, function)
        self.function = function


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
