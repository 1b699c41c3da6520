"""Scenario configs: each ``[scenarios.NAME]`` table deep-merged over the base config and validated as a whole.

A scenario overrides anything the config can say (inputs, ``[run]`` options, ``[selection]``,
``[data]``, ``[correlations]``, the stage sections) except what describes the whole run
(``[scenarios]``, ``[execution]``, ``[report]``, ``run.seed``). It goes through
:func:`uncertain_cost.config.parse_config` like any config, so every mistake is the same
one-line error with its key prefixed ``scenarios.NAME.``. Running, combining and reporting
scenarios is not config work (see :mod:`uncertain_cost.scenarios`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from uncertain_cost.config import Config, parse_config
from uncertain_cost.config.schema import show, shown_key
from uncertain_cost.errors import ConfigError

__all__ = ["deep_merge", "scenario_configs", "RUN_WIDE"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: sections a scenario may not override: they describe the whole run, not one scenario
RUN_WIDE = ("scenarios", "execution", "report")


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``over`` merged in: tables merge key by key, any other value replaces.

    Parameters
    ----------
    base, over : mapping
        Parsed TOML tables (neither is modified).

    Returns
    -------
    dict
    """
    out = {k: (deep_merge(v, {}) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        elif isinstance(value, Mapping):
            out[key] = deep_merge(value, {})
        else:
            out[key] = value
    return out


def scenario_configs(config: Config) -> dict[str, Config]:
    """Validate every ``[scenarios.NAME]`` table of ``config`` as a whole config, in file order.

    Parameters
    ----------
    config : Config
        The base config (its ``raw`` document and ``overrides``; command-line overrides win
        over every scenario).

    Returns
    -------
    dict of str to Config
        Scenario name -> its config ({} when the config has no scenarios).

    Raises
    ------
    ConfigError
        Naming ``scenarios.NAME.<dotted key>`` of the first mistake.
    """
    table = config.section("scenarios")
    if not table:
        return {}
    source = config.source
    base = {k: v for k, v in config.raw.items() if k not in ("scenarios",)}
    out: dict[str, Config] = {}
    for name, over in table.items():
        key = f"scenarios.{shown_key(name)}"
        if not _NAME.match(name):
            raise ConfigError(key, "a scenario name is 1 to 100 letters, digits, '_', '.', '-' (it names rows and "
                              "files)", source)
        if not isinstance(over, dict):
            raise ConfigError(key, f"expected a table [scenarios.{name}], got {show(over)}", source)
        for section in RUN_WIDE:
            if section in over:
                raise ConfigError(f"{key}.{section}", "is the same for every scenario; set it in the base config",
                                  source)
        if isinstance(over.get("run"), dict) and "seed" in over["run"]:
            raise ConfigError(f"{key}.run.seed", "every scenario uses the run's seed (common random numbers); "
                              "set [run] seed in the base config", source)
        try:
            cfg = parse_config(deep_merge(base, over), path=config.path, sha256=config.sha256,
                               overrides=config.overrides)  # parses and checks every section
        except ConfigError as exc:
            raise ConfigError(f"{key}.{exc.key}", exc.message, exc.source) from None
        out[name] = cfg
    return out
