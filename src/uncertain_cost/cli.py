"""Command line: argv -> config -> pipeline -> report. Exit codes; no business logic.

Exit codes: 0 success, 2 a user error (bad config or data; one line on stderr, no
traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from uncertain_cost import __version__
from uncertain_cost.errors import UncertainCostError

__all__ = ["main", "build_parser"]

def _program_name() -> str:
    """``uncertain-cost`` when started by the console script, else ``python -m uncertain_cost``."""
    return "uncertain-cost" if Path(sys.argv[0]).name == "uncertain-cost" else "python -m uncertain_cost"


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(
        prog=_program_name(),
        description="Costs of training frontier AI models, with honest uncertainty.",
    )
    parser.add_argument("--version", action="version", version=f"uncertain_cost {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a config and write a run folder")
    run.add_argument("config", nargs="?", default=None,
                     help="TOML config (default: the embedded default job, the same as the repository's config.toml)")
    run.add_argument("--out", help="run folder to write (default: runs/<config name>)")
    run.add_argument("--draws", type=int, help="number of Monte Carlo draws (overrides run.draws)")
    run.add_argument("--seed", type=int, help="random seed (overrides run.seed)")
    run.add_argument("--epoch-dir", help="Epoch AI export folder (overrides data.epoch_dir)")
    run.add_argument("--quiet", action="store_true", help="no progress messages")
    run.add_argument("--backend", choices=("local", "dask"), help="where the work runs (overrides execution.backend)")
    run.add_argument("--workers", type=int,
                     help="a Dask LocalCluster of N worker processes (overrides execution.workers; "
                          "implies --backend dask)")

    val = sub.add_parser("validate", help="check a config and show the resolved inputs")
    val.add_argument("config", nargs="?", default=None)
    val.add_argument("--epoch-dir")

    imp = sub.add_parser("import-epoch", help="convert an Epoch AI export into the engine's tables")
    imp.add_argument("folder", help="folder with the Epoch CSV files")
    imp.add_argument("--out", required=True, help="folder to write the TOML tables to")

    est = sub.add_parser("estimate", help="cost of one hypothetical training run, with uncertainty")
    est.add_argument("--chip", required=True, help="accelerator, e.g. H100 or 'Google TPU v5p'")
    est.add_argument("--quantity", type=float, required=True, help="number of accelerators")
    est.add_argument("--days", type=float, required=True, help="training duration in days")
    est.add_argument("--start", required=True, help="training start, YYYY-MM-DD")
    est.add_argument("--organization", default="Hypothetical lab",
                     help="developer; decides PUE class and cloud vendor (e.g. Google, Meta, OpenAI)")
    est.add_argument("--config", default=None, help="config whose inputs and reference month to use")
    est.add_argument("--draws", type=int, default=20_000)
    est.add_argument("--seed", type=int, default=None)
    est.add_argument("--json", action="store_true", help="print JSON instead of a table")

    sub.add_parser("priors", help="list the embedded prior tables")
    return parser


def _overrides(args: argparse.Namespace) -> dict:
    out = {}
    for attr, key in (("draws", "run.draws"), ("seed", "run.seed"), ("epoch_dir", "data.epoch_dir"),
                      ("backend", "execution.backend"), ("workers", "execution.workers")):
        value = getattr(args, attr, None)
        if value is not None:
            out[key] = str(Path(value).resolve()) if attr == "epoch_dir" else value
    if getattr(args, "workers", None) is not None and getattr(args, "backend", None) is None:
        out["execution.backend"] = "dask"
    return out


def _load(args: argparse.Namespace):
    from uncertain_cost.config import default_config, load_config

    if not args.config:
        return default_config(_overrides(args))
    return load_config(Path(args.config), _overrides(args))


def _cmd_run(args: argparse.Namespace) -> int:
    from uncertain_cost.pipeline import Progress
    from uncertain_cost.runner import run_config

    config = _load(args)
    progress = Progress(quiet=args.quiet)
    result = run_config(config, progress)
    out = Path(args.out) if args.out else Path("runs") / (config.path.stem if config.path else "default")
    progress.stage(f"writing {out}")
    folder = result.write(out)
    if not args.quiet:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        print(folder)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from uncertain_cost.pipeline import load_facts

    config = _load(args)
    print(f"config {config.source} (sha256 {config.sha256[:12]}) is valid")
    print(f"run: {config.run}")
    print(f"{'input':26s} {'scope':10s} {'central':>10s}  distribution")
    for spec in config.inputs:
        print(f"{spec.name:26s} {spec.scope:10s} {spec.distribution.central:10.4g}  {spec.distribution!r}")
    facts, skipped, _ = load_facts(config)
    print(f"{int(facts.is_frontier.sum())} frontier models resolved ({len(skipped)} skipped rows/models)")
    if config.section("scenarios"):
        from uncertain_cost.scenarios import scenario_configs

        print(f"scenarios (each valid as a whole config): {', '.join(scenario_configs(config))}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from uncertain_cost.data.epoch import import_epoch

    report = import_epoch(args.folder, args.out)
    print(report.summary())
    return 0


def _cmd_priors(args: argparse.Namespace) -> int:
    import tomllib

    from uncertain_cost.defaults import priors_dir

    folder = priors_dir()
    for path in sorted(folder.glob("*.toml")):
        with open(path, "rb") as handle:
            doc = tomllib.load(handle)
        sizes = ", ".join(f"{k} ({len(v)})" if isinstance(v, list | dict) else k for k, v in doc.items())
        print(f"{path.name:28s} {sizes}")
    return 0


def _cmd_estimate(args: argparse.Namespace) -> int:
    import json
    from datetime import date

    from uncertain_cost.data.priors import load_embedded_tables
    from uncertain_cost.errors import ConfigError
    from uncertain_cost.estimate import Hypothetical, estimate_run
    from uncertain_cost.report import format_usd

    config = _load(argparse.Namespace(config=args.config, draws=args.draws, seed=args.seed, epoch_dir=None))
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        raise ConfigError("--start", f"expected a date YYYY-MM-DD, got {args.start!r}") from None
    run = Hypothetical(args.chip, args.quantity, args.days, start, args.organization)
    tables = load_embedded_tables()
    if config.data.epoch_dir is not None:
        from uncertain_cost.data.epoch import read_epoch_snapshot

        tables, _ = read_epoch_snapshot(config.data.epoch_dir)
    result = estimate_run(tables, config.inputs, run, reference_month=config.run.reference_month,
                          draws=config.run.draws, seed=config.run.seed,
                          interconnect_fraction=config.run.interconnect_fraction)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['name']} (USD of {config.run.reference_month}, {config.run.draws:,} draws)")
    print(f"{'method':12s} {'point':>10s} {'median':>10s} {'90% interval':>24s}")
    for row in result["rows"]:
        interval = f"{format_usd(row['p5_usd'])} - {format_usd(row['p95_usd'])}"
        print(f"{row['method']:12s} {format_usd(row['point_usd']):>10s} {format_usd(row['median_usd']):>10s} "
              f"{interval:>24s}")
    print("amortized components (medians): " + ", ".join(
        f"{k} {format_usd(v)}" for k, v in result["components"].items()))
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "import-epoch": _cmd_import, "priors": _cmd_priors,
            "estimate": _cmd_estimate}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m uncertain_cost``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except UncertainCostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
