"""Regenerate the curated embedded priors from an Epoch snapshot (a maintainer's tool).

``curate_priors("../shared/epoch-data/2024-06")`` rewrites ``priors/chips.toml``,
``priors/hardware_prices.toml``, ``priors/ppi.toml`` and ``priors/frontier_models.toml``
from the snapshot the paper used, keeping what only the priors hold (TPU equivalent
prices, curated chips such as newer hardware, aliases) and leaving the hand-written rule
files (``constants.toml``, ``electricity.toml``, ``cloud_discounts.toml``) untouched.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from uncertain_cost.data.epoch import read_epoch_snapshot
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.priors import load_tables, priors_dir, write_tables
from uncertain_cost.data.selection import SelectionRules, select_frontier
from uncertain_cost.data.tables import ChipSpec, Tables


def _explicit_chip(chip: ChipSpec, tables: Tables, snapshot: str) -> ChipSpec:
    """Fill the paper's family rules into a chip so the TOML states every value."""
    rules = tables.rules
    so = chip.server_overhead
    if math.isnan(so):
        so = rules.server_overhead(chip.name)
    pr = chip.server_power_ratio
    if math.isnan(pr):
        pr = rules.server_power_ratio(chip.name, chip.is_tpu)
    tdp = chip.tdp_w
    source = chip.source.replace(
        "Epoch AI chip dataset,", f"Epoch AI chip dataset snapshot {snapshot} (CC-BY 4.0),"
    )
    if math.isnan(tdp) and not math.isnan(rules.tdp_fallback_w(chip.name)):
        tdp = rules.tdp_fallback_w(chip.name)
        source += f"; TDP {tdp:g} W is the paper's value (missing in the Epoch chip table)"
    kind = "tpu" if chip.is_tpu else chip.kind
    return replace(chip, server_overhead=so, server_power_ratio=pr, tdp_w=tdp, kind=kind,
                   source=source)


def curate_priors(
    snapshot_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    rules: SelectionRules | None = None,
) -> list[Path]:
    """Rewrite the embedded priors' data tables from an Epoch snapshot.

    Parameters
    ----------
    snapshot_dir : str or Path
        The Epoch snapshot the paper used (``../shared/epoch-data/2024-06``).
    out_dir : str or Path, optional
        Priors folder; default :func:`priors_dir`.
    rules : SelectionRules, optional
        Frontier selection (default: running top-10, 2015-10-01..2024-01-01).

    Returns
    -------
    list of Path
        Files written.
    """
    out = Path(out_dir) if out_dir is not None else priors_dir()
    base = load_tables(out)
    snap = Path(snapshot_dir)
    tables, _ = read_epoch_snapshot(snap, base=base)
    sel = select_frontier(tables, rules)
    keep = list(sel.names)
    by_name = {m.name: m for m in tables.models}
    for n in list(keep):
        b = by_name[n].base_model
        if b and b in by_name and b not in keep:
            keep.append(b)
    label = f"Epoch AI 'Notable AI Models' snapshot {snap.name} (CC-BY 4.0)"
    models = tuple(
        replace(by_name[n], source=f"{label}, {by_name[n].source}") for n in keep
    )

    matcher = HardwareMatcher(tables.chips)
    wanted = {matcher.match(h) for m in models for h in m.hardware}
    wanted |= {matcher.match(p.hardware) for p in tables.prices}
    for _, members in tables.rules.cloud_price_groups:
        wanted |= {matcher.match(m) for m in members}
    wanted |= {c.name for c in base.chips}
    wanted.discard(None)
    chips = tuple(_explicit_chip(c, tables, snap.name) for c in tables.chips if c.name in wanted)

    curated = replace(
        tables,
        models=models,
        chips=chips,
        snapshot=f"epoch-{snap.name}",
        provenance=MappingProxyType(
            {
                "models": f"{label}: the paper's frontier set "
                f"({sel.rules.method}, n={sel.rules.top_n}, "
                f"{sel.rules.start}..{sel.rules.end}), plus base models of fine-tunes",
                "chips": f"Epoch AI chip dataset, snapshot {snap.name} (CC-BY 4.0), chips used "
                "by the frontier set and the price table, plus curated newer hardware; "
                "server_overhead / server_power_ratio per the paper's family rules",
                "prices": f"Epoch AI hardware price table, snapshot {snap.name} (CC-BY 4.0), "
                "plus the paper's TPU equivalent prices and curated newer prices; "
                "each row names its source",
            }
        ),
    )
    return write_tables(curated, out, models_file="frontier_models.toml", rule_files=False)


#: accelerators of 2023-25 frontier models, added to the priors from a later snapshot
NEWER_HARDWARE = (
    "NVIDIA H100 PCIe",
    "NVIDIA H100 NVL",
    "NVIDIA H200 SXM",
    "NVIDIA H800 SXM5",
    "NVIDIA H800 PCIe",
    "NVIDIA HGX H20",
    "NVIDIA GH200",
    "NVIDIA B200",
    "NVIDIA GB200 NVL2",
    "NVIDIA A800 SXM",
    "NVIDIA A800 PCIe",
    "Google TPU v5e",
    "Google TPU v5p",
    "Google TPU v6e Trillium",
    "AMD Instinct MI300X",
    "AMD Instinct MI300A",
    "Amazon Trainium1",
    "Amazon Trainium2",
)

#: chips whose price rows must not change the paper's 2024 results: their later prices are
#: reachable by the paper's "closest price after" rule, so they stay out of the priors
PAPER_CHIP_FAMILIES = ("A100", "V100", "P100", "K80", "K40", "Titan X", "TPU v1", "TPU v2",
                       "TPU v3", "TPU v4")

NEWER_ALIASES = {
    "NVIDIA H200 SXM": ("H200", "NVIDIA H200", "H200 SXM"),
    "NVIDIA H800 SXM5": ("H800", "NVIDIA H800"),
    "NVIDIA B200": ("B200", "NVIDIA DGX B200", "HGX B200"),
    "AMD Instinct MI300X": ("MI300X", "AMD MI300X"),
    "Amazon Trainium1": ("Trainium", "Trainium1", "AWS Trainium"),
    "Amazon Trainium2": ("Trainium2", "AWS Trainium2"),
    "Google TPU v5e": ("TPUv5e",),
    "Google TPU v5p": ("TPUv5p",),
    "Google TPU v6e Trillium": ("TPU v6e", "TPUv6e", "Trillium"),
}


def add_newer_hardware(
    snapshot_dir: str | Path,
    out_dir: str | Path | None = None,
    names: tuple[str, ...] = NEWER_HARDWARE,
) -> list[Path]:
    """Add newer accelerators (specs and prices) from a later Epoch snapshot to the priors.

    Chip specs and purchase/cloud prices of ``names`` are copied from the snapshot with
    their source notes. Price rows of the chip families the paper costed (A100, V100,
    TPU v1-v4, ...) are not added, and H100 price rows only if dated before 2024, so the
    paper's 2024 results from the embedded priors stay exactly as they are.

    Parameters
    ----------
    snapshot_dir : str or Path
        A later Epoch snapshot (``../shared/epoch-data/2025-06``).
    out_dir : str or Path, optional
        Priors folder; default :func:`priors_dir`.
    names : tuple of str
        Chip names (as in the snapshot's chip table) to add.

    Returns
    -------
    list of Path
        Files written.
    """
    out = Path(out_dir) if out_dir is not None else priors_dir()
    base = load_tables(out)
    snap = Path(snapshot_dir)
    new, _ = read_epoch_snapshot(snap, base=base)
    have = {c.name for c in base.chips}
    add_chips = []
    for c in new.chips:
        if c.name in names and c.name not in have:
            c = replace(c, aliases=NEWER_ALIASES.get(c.name, c.aliases))
            add_chips.append(_explicit_chip(c, new, snap.name))
    chips = base.chips + tuple(add_chips)
    wanted = set(names)
    existing = {(p.hardware, p.date, p.vendor, p.purchase, p.three_year, p.on_demand)
                for p in base.prices}
    add_prices = []
    for p in new.prices:
        if p.hardware not in wanted:
            continue
        if any(fam in p.hardware for fam in PAPER_CHIP_FAMILIES):
            continue
        if "H100" in p.hardware and p.vendor:
            continue  # later H100 cloud rows would move Inflection-2's cloud price
        key = (p.hardware, p.date, p.vendor, p.purchase, p.three_year, p.on_demand)
        if key in existing:
            continue
        existing.add(key)
        add_prices.append(replace(p, source=f"{p.source} (via Epoch AI price table "
                                            f"snapshot {snap.name}, CC-BY 4.0)"))
    tables = replace(base, chips=chips, prices=base.prices + tuple(add_prices))
    return write_tables(tables, out, models_file="frontier_models.toml", rule_files=False)
