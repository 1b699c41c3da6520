"""The paper's constants and family rules, read from ``priors/constants.toml``.

Cottier et al. (2024, arXiv:2405.21015) decide several per-chip and per-model values
by substring rules on names ("A100" -> server overhead 1.66, an organization containing
"google" -> Google Cloud and a hyperscaler PUE, ...). Those rules are data, kept in
``constants.toml`` with a source note each, and applied here.

Three choices differ between the paper's 2024 run and Epoch AI's mid-2025 pipeline
(``training-cost-trends``, ``cost_analysis_standalone.py``); :data:`RULE_SETS` names the
two sets and :meth:`PaperRules.with_rule_set` switches them (``[data] rules``):

``price_ties``
    same-date purchase prices of one chip family: ``"lower"`` (the paper's V100 price,
    $17,250, from an unstable sort) or ``"table_order"`` (the first row of the price
    table, what Epoch's pipeline gets for every chip family on the 2025-06 table);
``cloud_chip_hours``
    ``"any"`` (the cloud method uses the model's chip-hours path, reported chip-hours
    first) or ``"quantity_time"`` (Epoch's pipeline bills hardware quantity x training
    time and gives no cloud cost without both);
``impute_counting``
    how ``impute_hardware = "most_common_of_year"`` counts a year's hardware:
    ``"notable_matched"`` (notable models naming one recognised type) or ``"epoch"``
    (every row with a publication date, names as written, rows listing several types
    split at commas, rows naming a TPU left out, ties to the alphabetically first name,
    as ``pandas.Series.mode`` returns them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from uncertain_cost.errors import DataError

#: ``[data] rules`` -> (price_ties, cloud_chip_hours, impute_counting)
RULE_SETS = {
    "paper": ("lower", "any", "notable_matched"),
    "epoch_2025": ("table_order", "quantity_time", "epoch"),
}


@dataclass(frozen=True)
class TrainingDateOverride:
    """A known training date that replaces the generic rule for one model.

    ``match`` is ``"exact"`` (model name equals ``model``) or ``"contains"``.
    Exactly one of ``start`` (training start) and ``end`` (training end; start is end
    minus the training time) is set.
    """

    model: str
    match: str
    start: date | None
    end: date | None
    source: str = ""

    def applies_to(self, name: str) -> bool:
        """Return True when this override is for model ``name``."""
        if self.match == "exact":
            return name == self.model
        return self.model in name


@dataclass(frozen=True)
class PaperRules:
    """Constants and substring rules of the paper's method (method.md sections 2-6)."""

    price_performance_ooms_per_year: float
    interconnect_fraction: float
    default_utilization: float
    default_training_time_hours: float
    publication_lag_days: float
    cloud_price_lag_days: float
    gpu_acquisition_delay_days: float
    hours_per_year: float
    days_per_year: float
    avg_power_fraction_gpu: float
    avg_power_fraction_tpu: float
    server_overhead_rules: tuple[tuple[str, float], ...]
    server_overhead_default: float
    power_ratio_gpu_rules: tuple[tuple[str, float], ...]
    power_ratio_gpu_default: float
    power_ratio_tpu_rules: tuple[tuple[str, float], ...]
    power_ratio_tpu_default: float
    tdp_fallbacks: tuple[tuple[str, float], ...]
    pue_hyperscalers: tuple[str, ...]
    pue_hyperscaler: float
    pue_other: float
    vendor_rules: tuple[tuple[str, str], ...]
    default_vendor: str
    vendor_priority: tuple[str, ...]
    tpu_vendor: str
    gpu_price_aliases: tuple[str, ...]
    cloud_price_groups: tuple[tuple[str, tuple[str, ...]], ...]
    training_date_overrides: tuple[TrainingDateOverride, ...]
    source: str = ""
    price_ties: str = "lower"
    cloud_chip_hours: str = "any"
    impute_counting: str = "notable_matched"

    def with_rule_set(self, name: str) -> PaperRules:
        """Return these rules with the choices of the rule set ``name`` (:data:`RULE_SETS`).

        Parameters
        ----------
        name : {"paper", "epoch_2025"}

        Returns
        -------
        PaperRules
            ``self`` for ``"paper"`` (the defaults), else a copy.

        Raises
        ------
        ValueError
            On an unknown name.
        """
        if name not in RULE_SETS:
            raise ValueError(f"unknown rule set {name!r}; expected one of {', '.join(RULE_SETS)}")
        ties, cloud, counting = RULE_SETS[name]
        if (ties, cloud, counting) == (self.price_ties, self.cloud_chip_hours, self.impute_counting):
            return self
        return replace(self, price_ties=ties, cloud_chip_hours=cloud, impute_counting=counting)

    # -- family rules ------------------------------------------------------------------
    def server_overhead(self, chip_name: str) -> float:
        """Server price / bare chip price for ``chip_name`` (A100 1.66, ..., else 1.64)."""
        for pattern, value in self.server_overhead_rules:
            if pattern in chip_name:
                return value
        return self.server_overhead_default

    def server_power_ratio(self, chip_name: str, is_tpu: bool) -> float:
        """Server power per chip / chip TDP (H100 1.82, ..., TPU v3 1.47, ...)."""
        rules, default = (
            (self.power_ratio_tpu_rules, self.power_ratio_tpu_default)
            if is_tpu
            else (self.power_ratio_gpu_rules, self.power_ratio_gpu_default)
        )
        for pattern, value in rules:
            if pattern in chip_name:
                return value
        return default

    def avg_power_fraction(self, is_tpu: bool) -> float:
        """Average power draw / TDP (GPU 0.75, TPU 0.43)."""
        return self.avg_power_fraction_tpu if is_tpu else self.avg_power_fraction_gpu

    def tdp_fallback_w(self, chip_name: str) -> float:
        """TDP used when the chip table has none (TPU v4: 373 W); NaN otherwise."""
        for pattern, value in self.tdp_fallbacks:
            if pattern in chip_name:
                return value
        return float("nan")

    def is_hyperscaler(self, organization: str) -> bool:
        """Return True when the organization string names a hyperscaler (PUE 1.1)."""
        org = organization.lower()
        return any(h in org for h in self.pue_hyperscalers)

    def preferred_vendor(self, organization: str) -> str:
        """Cloud vendor for a developer: the last organization with a matching rule wins."""
        vendor = ""
        for org in organization.split(","):
            low = org.lower()
            for key, value in self.vendor_rules:
                if key in low:
                    vendor = value
                    break
        return vendor or self.default_vendor

    def gpu_price_alias(self, chip_name: str) -> str:
        """Return the family alias ("A100", ...) used to pick a GPU purchase price."""
        for alias in self.gpu_price_aliases:
            if alias in chip_name:
                return alias
        return ""

    def cloud_price_group(self, chip_name: str) -> tuple[str, tuple[str, ...]] | None:
        """Return the (simplified name, members) cloud-price group of a chip, or None."""
        for group, members in self.cloud_price_groups:
            if chip_name in members:
                return group, members
        return None

    def training_date_override(self, model_name: str) -> TrainingDateOverride | None:
        """Return the first override that applies to ``model_name``, or None."""
        for o in self.training_date_overrides:
            if o.applies_to(model_name):
                return o
        return None

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "constants.toml") -> PaperRules:
        """Build the rules from the parsed ``constants.toml``.

        Parameters
        ----------
        d : dict
            Parsed TOML document.
        source : str
            File name used in error messages.

        Returns
        -------
        PaperRules

        Raises
        ------
        DataError
            When a required key is missing or has the wrong type.
        """

        def get(path: str) -> Any:
            node: Any = d
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise DataError(f"{source}: missing key '{path}'")
                node = node[part]
            if isinstance(node, dict) and "value" in node:
                return node["value"]
            return node

        def num(path: str) -> float:
            v = get(path)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise DataError(f"{source}: '{path}' must be a number, got {v!r}")
            return float(v)

        def pattern_rules(path: str) -> tuple[tuple[str, float], ...]:
            rows = get(path)
            try:
                return tuple((str(r["pattern"]), float(r["value"])) for r in rows)
            except (KeyError, TypeError, ValueError) as exc:
                raise DataError(f"{source}: '{path}' entries need 'pattern' and 'value'") from exc

        overrides = _training_date_overrides(get("training_date_overrides"), source)

        groups = tuple(
            (str(g["group"]), tuple(str(m) for m in g["members"]))
            for g in get("cloud.price_groups")
        )
        return cls(
            price_performance_ooms_per_year=num("amortization.price_performance_ooms_per_year"),
            interconnect_fraction=num("cluster.interconnect_fraction"),
            default_utilization=num("chip_hours.default_utilization"),
            default_training_time_hours=num("dates.default_training_time_hours"),
            publication_lag_days=num("dates.publication_lag_days"),
            cloud_price_lag_days=num("cloud.price_lag_days"),
            gpu_acquisition_delay_days=num("dates.gpu_acquisition_delay_days"),
            hours_per_year=num("units.hours_per_year"),
            days_per_year=num("units.days_per_year"),
            avg_power_fraction_gpu=num("energy.avg_power_fraction_gpu"),
            avg_power_fraction_tpu=num("energy.avg_power_fraction_tpu"),
            server_overhead_rules=pattern_rules("server_overhead.rules"),
            server_overhead_default=num("server_overhead.default"),
            power_ratio_gpu_rules=pattern_rules("server_power_ratio.gpu"),
            power_ratio_gpu_default=num("server_power_ratio.gpu_default"),
            power_ratio_tpu_rules=pattern_rules("server_power_ratio.tpu"),
            power_ratio_tpu_default=num("server_power_ratio.tpu_default"),
            tdp_fallbacks=pattern_rules("energy.tdp_fallback_w"),
            pue_hyperscalers=tuple(str(s).lower() for s in get("pue.hyperscaler_patterns")),
            pue_hyperscaler=num("pue.hyperscaler"),
            pue_other=num("pue.other"),
            vendor_rules=tuple(
                (str(r["pattern"]).lower(), str(r["vendor"])) for r in get("cloud.vendor_rules")
            ),
            default_vendor=str(get("cloud.default_vendor")),
            vendor_priority=tuple(str(v) for v in get("cloud.vendor_priority")),
            tpu_vendor=str(get("cloud.tpu_vendor")),
            gpu_price_aliases=tuple(str(a) for a in get("purchase.gpu_price_aliases")),
            cloud_price_groups=groups,
            training_date_overrides=tuple(overrides),
            source=source,
        )


def _training_date_overrides(rows: Any, source: str) -> list[TrainingDateOverride]:
    """Parse the ``training_date_overrides`` entries of ``constants.toml`` (exactly one of start/end each)."""
    overrides = []
    for i, o in enumerate(rows):
        try:
            start = date.fromisoformat(str(o["start"])) if "start" in o else None
            end = date.fromisoformat(str(o["end"])) if "end" in o else None
            overrides.append(
                TrainingDateOverride(
                    model=str(o["model"]),
                    match=str(o.get("match", "exact")),
                    start=start,
                    end=end,
                    source=str(o.get("source", "")),
                )
            )
        except (KeyError, ValueError) as exc:
            raise DataError(f"{source}: training_date_overrides[{i}]: {exc}") from exc
        if (start is None) == (end is None):
            raise DataError(
                f"{source}: training_date_overrides[{i}] needs exactly one of start/end"
            )
    return overrides
