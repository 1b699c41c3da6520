"""Locate the embedded ``priors/`` folder and read the default input distributions."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from uncertain_cost.errors import ConfigError, DataError

__all__ = ["priors_dir", "load_input_defaults", "read_toml"]


def priors_dir() -> Path:
    """Folder of the embedded priors.

    In order: ``$UNCERTAIN_COST_PRIORS``; the repository's top-level ``priors/`` when the
    package runs from a source checkout (``src/`` layout, editable installs); the copy that
    the build maps into the installed package (``uncertain_cost/priors``, found through
    :mod:`importlib.resources`), for a wheel, ``pip install .`` or a git-URL install.

    Raises
    ------
    DataError
        If the folder cannot be found.
    """
    env = os.environ.get("UNCERTAIN_COST_PRIORS")
    if env:
        path = Path(env)
        if not path.is_dir():
            raise DataError(f"UNCERTAIN_COST_PRIORS: priors folder not found at {path}")
        return path
    here = Path(__file__).resolve()
    if here.parents[1].name == "src" and (here.parents[2] / "priors").is_dir():
        return here.parents[2] / "priors"
    packaged = Path(str(resources.files("uncertain_cost") / "priors"))
    if not packaged.is_dir():
        raise DataError(f"embedded priors not found at {packaged}; reinstall the package or set UNCERTAIN_COST_PRIORS")
    return packaged


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
