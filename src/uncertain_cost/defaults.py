"""Locate the embedded ``priors/`` folder and read the default input distributions."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from uncertain_cost.errors import ConfigError, DataError

__all__ = ["priors_dir", "load_input_defaults", "read_toml"]


def priors_dir() -> Path:
    """Folder of the embedded priors: ``$UNCERTAIN_COST_PRIORS`` or the repository's ``priors/``.

    Raises
    ------
    DataError
        If the folder cannot be found.
    """
    env = os.environ.get("UNCERTAIN_COST_PRIORS")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "priors"
    if not path.is_dir():
        raise DataError(f"embedded priors not found at {path}; set UNCERTAIN_COST_PRIORS")
    return path


def read_toml(path: Path, key: str = "config") -> dict:
    """Read a TOML file, turning a syntax error into a one-line ConfigError."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(key, f"file not found: {path}", str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(key, f"invalid TOML: {exc}", str(path)) from None


def load_input_defaults() -> dict:
    """Read the default input distributions (``priors/inputs.toml``) as raw tables."""
    return read_toml(priors_dir() / "inputs.toml", "inputs")
