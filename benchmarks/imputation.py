"""Validation of the imputation on disclosed training runs: hide, impute, compare.

Run from the repository root::

    PYTHONPATH=src:. python -m benchmarks.imputation --epoch-dir ../shared/epoch-data/2024-06
    PYTHONPATH=src:. python -m benchmarks.imputation --epoch-dir ../shared/epoch-data/2025-06 \\
        --train-epoch-dir ../shared/epoch-data/2024-06 --published-after 2024-06-01

Every run of ``--epoch-dir`` with one recognised accelerator, hardware quantity and training
time disclosed, at least ``--min-compute`` FLOP and published after ``--published-after``
is evaluated (issue 22, item 4). Runs whose implied utilization is outside the plausible
range (:data:`uncertain_cost.data.utilization.PLAUSIBLE_RANGE`) are inconsistent
disclosures: counted, listed, and not evaluated.

For each remaining run the utilization model is fitted on the disclosed runs of
``--train-epoch-dir`` without that run (leave-one-out when both snapshots are the same),
and the run's quantity, time, stated utilization and reported chip-hours are hidden:

- **pass 1** (hardware known): chip-hours = compute / (peak x u) / 3600 with u from the
  fit's predictive Beta (the distribution ``[data] impute = "all"`` draws);
- **pass 2** (hardware hidden too): the chip is also imputed, as the engine does
  (:func:`uncertain_cost.data.impute.organization_candidates` on the training snapshot:
  the organisation's accelerators of the two years before publication, else those of
  frontier-scale peers), a mixture over candidates.

Amortized cost (every other input at its central value, the paper's rules) is linear in
chip-hours for given facts, so each predictive distribution is exact (no Monte Carlo): the
cost per chip-hour of the hidden run (its training start now from the default training time)
times the imputed chip-hours, against the cost of the disclosed run. The paper's own
utilization prior (normal, 90% 0.10-0.65) is scored as a baseline.

Writes a per-model CSV (``--csv``) and prints, as the LAST line, one JSON object: ``n``,
``n_inconsistent``, ``inconsistent`` (names and implied values) and, for ``chip_hours`` and
``cost`` of each pass and of the baseline, ``n``, ``coverage_90``, ``coverage_50``,
``mean_width90_log10`` and ``median_abs_log10_error``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.impute import organization_candidates
from uncertain_cost.data.tables import NAN, Tables
from uncertain_cost.data.utilization import DisclosedRun, disclosed_runs, fit_utilization

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: runs fitted: the shipped fit's threshold (priors/utilization.toml)
FIT_MIN_COMPUTE = 1e22


class _Beta:
    """Utilization distribution with a vectorised cdf/ppf (scipy frozen)."""

    def __init__(self, dist):
        self.dist = dist

    def cdf(self, u):
        return self.dist.cdf(u)

    def ppf(self, q):
        return self.dist.ppf(q)


def _paper_prior() -> _Beta:
    """The paper's utilization prior: normal, 90% 0.10-0.65, truncated to (0.01, 1]."""
    from scipy import stats

    loc, scale = 0.375, (0.65 - 0.10) / (2 * 1.6448536269514722)
    return _Beta(stats.truncnorm((0.01 - loc) / scale, (1.0 - loc) / scale, loc=loc, scale=scale))


def _fitted(train: list[DisclosedRun], exclude: str, cache: dict) -> _Beta:
    """Predictive Beta of the model fitted on ``train`` without the run named ``exclude``."""
    from scipy import stats

    key = exclude if any(r.name == exclude for r in train) else ""
    if key not in cache:
        fit = fit_utilization([r for r in train if r.name != key], grid=32)
        cache[key] = _Beta(stats.beta(*fit.beta()))
    return cache[key]


def _cost_per_chip_hour(tables: Tables, run: DisclosedRun, chip: str, inputs, disclosed: bool) -> float:
    """Amortized cost per chip-hour (central inputs, paper's rules) of ``run`` on ``chip``."""
    from uncertain_cost.data.resolve import resolve_facts
    from uncertain_cost.engine import point_costs

    record = next(m for m in tables.models if m.name == run.name)
    record = replace(record, hardware=(chip,), training_chip_hours=NAN, base_model="")
    if not disclosed:
        record = replace(record, hardware_quantity=NAN, training_time_hours=NAN, utilization=NAN)
    facts, _ = resolve_facts(tables, [record], reference_month="2023-12")
    if not facts.n_models:
        return NAN
    total = float(point_costs(facts, inputs).total("amortized")[0, 0])
    if disclosed:
        hours = run.quantity * run.hours
    else:
        hours = facts.training_compute_flop[0] / (facts.peak_flops[0] * 0.375) / 3600.0
    return total / hours if math.isfinite(total) and total > 0 else NAN


def _mixture(parts: list[tuple[float, float]], dist: _Beta, truth: float) -> tuple[list[float], float]:
    """Quantiles and PIT of ``X = scale / u`` mixed over ``(weight, scale)`` parts."""
    parts = [(w, s) for w, s in parts if w > 0 and math.isfinite(s) and s > 0]
    total = sum(w for w, _ in parts)
    if not parts:
        return [NAN] * len(QUANTILES), NAN

    def cdf(x):
        return sum(w * (1.0 - float(dist.cdf(s / x))) for w, s in parts) / total

    out = []
    lo0 = math.log(min(s for _, s in parts)) - 1
    hi0 = math.log(max(s for _, s in parts)) + 12
    for q in QUANTILES:
        lo, hi = lo0, hi0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if cdf(math.exp(mid)) < q else (lo, mid)
        out.append(math.exp(0.5 * (lo + hi)))
    return out, cdf(truth)


def evaluate_run(run: DisclosedRun, eval_tables: Tables, train_tables: Tables, dist: _Beta, inputs,
                 hide_hardware: bool, matcher: HardwareMatcher) -> dict:
    """Imputed chip-hours and cost of one disclosed run, against the disclosure.

    Parameters
    ----------
    run : DisclosedRun
    eval_tables, train_tables : Tables
    dist : object
        Utilization distribution (``cdf``, ``ppf``).
    inputs : InputSet
        Central values for the cost.
    hide_hardware : bool
        Impute the chip as well (pass 2).
    matcher : HardwareMatcher
        Of ``eval_tables``.

    Returns
    -------
    dict
        One CSV row.
    """
    chips = {c.name: c for c in eval_tables.chips}
    from uncertain_cost.data.resolve import peak_flops

    if hide_hardware:
        record = next(m for m in eval_tables.models if m.name == run.name)
        weights, basis = organization_candidates(record, train_tables, HardwareMatcher(train_tables.chips))
        weights = {matcher.match(c) or c: w for c, w in weights.items()}
        weights = {c: w for c, w in weights.items() if c in chips}
    else:
        weights, basis = {run.chip: 1.0}, "disclosed"
    truth_hours = run.quantity * run.hours
    per_chip = {c: (run.compute_flop / (peak_flops(chips[c]) * 3600.0)) for c in weights}
    ch_q, ch_pit = _mixture([(w, per_chip[c]) for c, w in weights.items()], dist, truth_hours)
    k = {c: _cost_per_chip_hour(eval_tables, run, c, inputs, False) for c in weights}
    truth_cost = _cost_per_chip_hour(eval_tables, run, run.chip, inputs, True) * truth_hours
    cost_q, cost_pit = _mixture([(w, per_chip[c] * k[c]) for c, w in weights.items()], dist, truth_cost)
    row = {"model": run.name, "organization": run.organization, "publication_date": run.publication_date.isoformat(),
           "chip": run.chip, "candidates": "; ".join(f"{c} {w:.2f}" for c, w in weights.items()),
           "candidate_basis": basis, "compute_flop": run.compute_flop, "implied_utilization": run.implied,
           "disclosed_chip_hours": truth_hours}
    for tag, qs, pit in (("chip_hours", ch_q, ch_pit), ("cost", cost_q, cost_pit)):
        for q, v in zip(QUANTILES, qs, strict=True):
            row[f"{tag}_p{int(q * 100)}"] = v
        row[f"{tag}_pit"] = pit
    row["disclosed_cost_usd"] = truth_cost
    return row


def score(rows: list[dict], tag: str) -> dict:
    """Coverage, width and error of the ``tag`` (chip_hours or cost) predictions.

    Parameters
    ----------
    rows : list of dict
        From :func:`evaluate_run`.
    tag : {"chip_hours", "cost"}

    Returns
    -------
    dict
    """
    truth_key = "disclosed_chip_hours" if tag == "chip_hours" else "disclosed_cost_usd"
    ok = [r for r in rows if all(math.isfinite(r[k]) for k in (truth_key, f"{tag}_p5", f"{tag}_p95"))]
    if not ok:
        return {"n": 0}
    t = np.array([r[truth_key] for r in ok])
    p5, p25, p50, p75, p95 = (np.array([r[f"{tag}_p{q}"] for r in ok]) for q in (5, 25, 50, 75, 95))
    return {"n": len(ok), "coverage_90": round(float(np.mean((p5 <= t) & (t <= p95))), 4),
            "coverage_50": round(float(np.mean((p25 <= t) & (t <= p75))), 4),
            "mean_width90_log10": round(float(np.mean(np.log10(p95 / p5))), 4),
            "median_abs_log10_error": round(float(np.median(np.abs(np.log10(p50 / t)))), 4),
            "mean_pit": round(float(np.mean([r[f"{tag}_pit"] for r in ok])), 4)}


def run_benchmark(epoch_dir, train_epoch_dir=None, published_after: date | None = None,
                  min_compute: float = 1e22, csv_path: str | Path | None = None) -> dict:
    """Evaluate every disclosed run; write the per-model CSV; return the summary.

    Parameters
    ----------
    epoch_dir, train_epoch_dir : str or pathlib.Path
        Evaluation snapshot and fit snapshot (default: the same, leave-one-out).
    published_after : datetime.date, optional
    min_compute : float
    csv_path : str or pathlib.Path, optional

    Returns
    -------
    dict
        The JSON summary.
    """
    from uncertain_cost.config import default_config
    from uncertain_cost.data.epoch import read_epoch_snapshot

    eval_tables, _ = read_epoch_snapshot(epoch_dir)
    same = train_epoch_dir is None or Path(train_epoch_dir).resolve() == Path(epoch_dir).resolve()
    train_tables = eval_tables if same else read_epoch_snapshot(train_epoch_dir)[0]
    train = disclosed_runs(train_tables, FIT_MIN_COMPUTE)
    runs = [r for r in disclosed_runs(eval_tables, min_compute, published_after) if math.isfinite(r.implied)]
    bad = [r for r in runs if not r.ok]
    good = [r for r in runs if r.ok]
    inputs = default_config().inputs
    matcher = HardwareMatcher(eval_tables.chips)
    cache: dict = {}
    paper = _paper_prior()
    rows = {"fitted": [], "fitted_hidden_hardware": [], "paper_prior": []}
    for run in good:
        dist = _fitted(train, run.name, cache)
        rows["fitted"].append(evaluate_run(run, eval_tables, train_tables, dist, inputs, False, matcher))
        rows["fitted_hidden_hardware"].append(
            evaluate_run(run, eval_tables, train_tables, dist, inputs, True, matcher))
        rows["paper_prior"].append(evaluate_run(run, eval_tables, train_tables, paper, inputs, False, matcher))
    if csv_path:
        _write_csv(csv_path, rows)
    out = {"n": len(good), "n_inconsistent": len(bad),
           "inconsistent": [f"{r.name}: {r.status}" for r in bad]}
    for name, rs in rows.items():
        out[name] = {"chip_hours": score(rs, "chip_hours"), "cost": score(rs, "cost")}
    for tag in ("chip_hours", "cost"):
        out[tag] = out["fitted"][tag]
    return out


def _write_csv(path, rows: dict) -> None:
    flat = [{"variant": name, **r} for name, rs in rows.items() for r in rs]
    if not flat:
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(flat[0]))
        writer.writeheader()
        for r in flat:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def main(argv: list[str] | None = None) -> int:
    """Command line: evaluate, print a table, then the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imputation", description=__doc__.splitlines()[0])
    parser.add_argument("--epoch-dir", required=True, help="snapshot whose disclosed runs are evaluated")
    parser.add_argument("--train-epoch-dir", default=None, help="snapshot the model is fitted on (default: the same, "
                        "leave-one-out)")
    parser.add_argument("--published-after", type=date.fromisoformat, default=None)
    parser.add_argument("--min-compute", type=float, default=1e22, help="FLOP (default 1e22)")
    parser.add_argument("--seed", type=int, default=0, help="unused: every predictive is exact (no Monte Carlo)")
    parser.add_argument("--csv", default="imputation_validation.csv", help="per-model CSV (default %(default)s)")
    args = parser.parse_args(argv)
    for folder in (args.epoch_dir, args.train_epoch_dir):
        if folder and not (Path(folder) / "All ML Systems - full view.csv").is_file():
            print(f"error: {folder}: not an Epoch snapshot folder", file=sys.stderr)
            return 2
    t0 = time.time()
    out = run_benchmark(args.epoch_dir, args.train_epoch_dir, args.published_after, args.min_compute, args.csv)
    print(f"{'variant':<24} {'quantity':<10} {'n':>4} {'cov90':>6} {'cov50':>6} {'width90':>8} {'|err|':>6}")
    for name in ("fitted", "fitted_hidden_hardware", "paper_prior"):
        for tag in ("chip_hours", "cost"):
            s = out[name][tag]
            if s.get("n"):
                print(f"{name:<24} {tag:<10} {s['n']:>4} {s['coverage_90']:>6.3f} {s['coverage_50']:>6.3f} "
                      f"{s['mean_width90_log10']:>8.3f} {s['median_abs_log10_error']:>6.3f}")
    for line in out["inconsistent"]:
        print(f"inconsistent: {line}")
    out["settings"] = {"epoch_dir": str(args.epoch_dir), "train_epoch_dir": str(args.train_epoch_dir or args.epoch_dir),
                       "published_after": str(args.published_after or ""), "min_compute": args.min_compute,
                       "csv": args.csv}
    out["runtime_s"] = round(time.time() - t0, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
