"""Command line: argv -> config -> API (run, write, estimate) -> exit code. No business logic.

Exit codes: 0 success, 2 a user error (bad config, data or argument; one line on stderr,
no traceback), 1 an environment error (read-only place, full disk, too little memory; one
line), 130 interrupted (SIGINT), 143 terminated (SIGTERM). On any error no partial run
folder is left and the previous one is intact.
"""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from uncertain_cost import __version__
from uncertain_cost.config import arguments, sections
from uncertain_cost.config.schema import Invalid, clip
from uncertain_cost.errors import ConfigError, ResourceError, UncertainCostError

__all__ = ["main", "run_as_program", "build_parser"]

def _program_name() -> str:
    """``uncertain-cost`` when started by the console script, else ``python -m uncertain_cost``."""
    return "uncertain-cost" if Path(sys.argv[0]).name == "uncertain-cost" else "python -m uncertain_cost"

#: largest seed accepted (numpy's SeedSequence takes any, results.nc stores an int64)
MAX_SEED = sections.MAX_SEED
#: longest hypothetical training run ``estimate --days`` accepts (10 years)
MAX_ESTIMATE_DAYS = arguments.MAX_ESTIMATE_DAYS
#: how far past the data's last PPI month ``estimate --start`` may lie
MAX_EXTRAPOLATION_YEARS = arguments.MAX_EXTRAPOLATION_YEARS


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (``error: ...``), exit 2, naming the closest valid choice."""

    def error(self, message: str):
        """Print ``message`` as one line (with a "did you mean" for an invalid choice) and exit with status 2."""
        self.exit(2, f"error: {self.prog}: {_suggest(message)} (see --help)\n")


def _suggest(message: str) -> str:
    """Add the closest valid choice to argparse's "invalid choice: 'rn' (choose from ...)" message."""
    import difflib

    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if not found:
        return message
    choices = re.findall(r"'([^']*)'", found.group(2)) or [c.strip() for c in found.group(2).split(",")]
    close = difflib.get_close_matches(found.group(1), choices, n=2, cutoff=0.5)
    return message + (f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "")


def _examples(*lines: str) -> str:
    """Format an argparse epilog: "examples:" and one command per line."""
    prog = _program_name()
    return "examples:\n" + "\n".join(f"  {prog} {line}" for line in lines)


def _count(text: str) -> int:
    """``--draws``: a whole number >= 1 (``1e6`` and ``1_000_000`` accepted)."""
    try:
        value = float(text.replace("_", "")) if any(c in text for c in ".eE") else int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(value)


def _seed(text: str) -> int:
    """``--seed``: an integer in 0..2**63-1."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer in 0..2**63-1, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer in 0..2**63-1, got {text}")
    return value


def _checked(check):
    """Make an argparse type: read the text as the API would receive it, check it with the API's checker."""
    def convert(text: str):
        try:
            return check(arguments.from_text(text) if check is not arguments.start else text)
        except Invalid as exc:
            raise argparse.ArgumentTypeError(exc.problem) from None

    convert.__name__ = check.__name__
    return convert


_quantity = _checked(arguments.quantity)
_days = _checked(arguments.days)
_start = _checked(arguments.start)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with its sub-commands (each with help on every option and examples)."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=_program_name(), formatter_class=raw,
        description="Costs of training frontier AI models, with honest uncertainty.",
        epilog=_examples("run                      # the default job -> runs/default/report.html",
                         "estimate --chip H100 --quantity 100000 --days 90 --start 2026-01-01"),
    )
    parser.add_argument("--version", action="version", version=f"uncertain_cost {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a config and write a run folder", formatter_class=raw,
                         description="Run a config: Monte Carlo costs, growth, sensitivity, development cost; "
                                     "write tables, results.nc, figures and report.html to a run folder.",
                         epilog=_examples("run config.toml --out runs/today",
                                          "run config.toml --quick --out runs/preview"))
    run.add_argument("config", nargs="?", default=None,
                     help="TOML config (default: the embedded default job, the same as the repository's config.toml)")
    run.add_argument("--out", help="run folder to write (default: runs/<config name>); only a previous run "
                     "folder of this tool is replaced")
    run.add_argument("--force", action="store_true",
                     help="replace --out even when it is not a run folder (kept until the new one is complete)")
    run.add_argument("--draws", type=_count, help="number of Monte Carlo draws (overrides run.draws)")
    run.add_argument("--seed", type=_seed, help="random seed, 0..2**63-1 (overrides run.seed)")
    run.add_argument("--epoch-dir", help="Epoch AI export folder (overrides data.epoch_dir)")
    run.add_argument("--quiet", action="store_true", help="no progress bars or messages; only errors")
    run.add_argument("--quick", action="store_true",
                     help="a preview in seconds: cost tables, the paper's OLS growth and an OLS forecast; no Bayesian "
                          "fit, robustness, backtest or sensitivity (growth.bayes and sensitivity.enabled off)")
    run.add_argument("--backend", choices=("local", "dask"), help="where the work runs (overrides execution.backend)")
    run.add_argument("--workers", type=int,
                     help="a Dask LocalCluster of N worker processes (overrides execution.workers; "
                          "implies --backend dask)")

    val = sub.add_parser("validate", help="check a config and show the resolved inputs", formatter_class=raw,
                         description="Check a config (every section, and what needs the resolved models) "
                                     "without running it; print its inputs and how many models resolve.",
                         epilog=_examples("validate config.toml", "validate examples/epoch-2025.toml "
                                          "--epoch-dir ../shared/epoch-data/2025-06"))
    val.add_argument("config", nargs="?", default=None,
                     help="TOML config to check (default: the embedded default job)")
    val.add_argument("--epoch-dir", help="Epoch AI export folder (overrides data.epoch_dir)")

    imp = sub.add_parser("import-epoch", help="convert an Epoch AI export into the engine's tables",
                         formatter_class=raw,
                         description="Convert the CSV files of an Epoch AI export into the engine's tables.",
                         epilog=_examples("import-epoch ../shared/epoch-data/2025-06 --out tables/2025-06"))
    imp.add_argument("folder", help="folder with the Epoch CSV files")
    imp.add_argument("--out", required=True,
                     help="new or empty folder (or an earlier import holding only its own files) for the tables; "
                          "use with [data] tables_dir")
    imp.add_argument("--force", action="store_true",
                     help="replace --out even when it holds other files (kept until the new one is complete)")

    est = sub.add_parser("estimate", help="cost of one hypothetical training run, with uncertainty",
                         formatter_class=raw,
                         description="Cost one hypothetical training run under the three methods (amortized, "
                                     "cloud, acquisition), with its 90% interval and the assumptions used.",
                         epilog=_examples("estimate --chip H100 --quantity 100000 --days 90 --start 2026-01-01",
                                          "estimate --chip 'Google TPU v5p' --quantity 8960 --days 60 "
                                          "--start 2025-06-01 --organization Google --json"))
    est.add_argument("--chip", required=True, help="accelerator, e.g. H100 or 'Google TPU v5p'")
    est.add_argument("--quantity", type=_quantity, required=True,
                     help=f"number of accelerators, a whole number up to {arguments.MAX_QUANTITY:,}")
    est.add_argument("--days", type=_days, required=True, help="training duration in days")
    est.add_argument("--start", type=_start, required=True, help="training start, YYYY-MM-DD")
    est.add_argument("--organization", default="Hypothetical lab",
                     help="developer; decides PUE class and cloud vendor (e.g. Google, Meta, OpenAI)")
    est.add_argument("--config", default=None, help="config whose inputs and reference month to use")
    est.add_argument("--draws", type=_checked(arguments.draws), default=20_000,
                     help=f"number of Monte Carlo draws, 1 to {arguments.MAX_DRAWS:,} (default 20,000)")
    est.add_argument("--seed", type=_seed, default=None,
                     help="random seed, 0..2**63-1 (default: the config's run.seed)")
    est.add_argument("--reference-month", default=None,
                     help="dollars of this month, YYYY-MM (default: the latest month of the deflator)")
    fmt = est.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fmt.add_argument("--csv", action="store_true", help="print CSV instead of a table")

    sub.add_parser("priors", help="list the embedded prior tables", formatter_class=raw,
                   description="List the embedded prior tables and their sizes.", epilog=_examples("priors"))
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
    if getattr(args, "quick", False):
        from uncertain_cost.api import QUICK_OVERRIDES

        out.update(QUICK_OVERRIDES)
    return out


#: command-line flags that set config keys (an error about the key names the flag)
_FLAGS = {"run.draws": "--draws", "run.seed": "--seed", "data.epoch_dir": "--epoch-dir",
          "execution.backend": "--backend", "execution.workers": "--workers"}


def _load(args: argparse.Namespace):
    from uncertain_cost.config import default_config, load_config

    overrides = _overrides(args)
    try:
        if not args.config:
            return default_config(overrides)
        return load_config(Path(args.config), overrides)
    except ConfigError as exc:
        flag = _FLAGS.get(exc.key)
        given = flag is not None and getattr(args, flag[2:].replace("-", "_"), None) is not None
        if given:  # the value came from the flag, not from the file
            raise ConfigError(flag, exc.message) from None
        raise


def _check_draws(config, args: argparse.Namespace) -> None:
    """Refuse a draw count that cannot fit in memory even for one model, before any work."""
    from uncertain_cost.memory import available_memory_bytes, estimate_memory_bytes, format_bytes

    need = estimate_memory_bytes(config.run.draws, 1, keep_draws=config.run.keep_draws)
    have = available_memory_bytes()
    if have is not None and need > have:
        key = "--draws" if getattr(args, "draws", None) is not None else "run.draws"
        raise ConfigError(key, f"{config.run.draws:,} draws need at least {format_bytes(need)} of memory "
                               f"(for a single model); {format_bytes(have)} is available",
                          None if key == "--draws" else config.source)


#: the runner's note on skipped rows, said by reason in the closing lines instead
_SKIPPED_NOTE = re.compile(r"^(\[[^]]*\] )?\d+ rows or models skipped \(see skipped\.csv\)$")


def _cmd_run(args: argparse.Namespace) -> int:
    from uncertain_cost.api import run, write
    from uncertain_cost.heap import older_objects_frozen
    from uncertain_cost.progress import Progress
    from uncertain_cost.quiet import quiet_run
    from uncertain_cost.reporting.overview import closing_lines
    from uncertain_cost.writer import OutputLock, check_destination

    config = _load(args)
    _check_draws(config, args)
    out = Path(args.out) if args.out else Path("runs") / (config.path.stem if config.path else "default")
    check_destination(out, args.force)
    progress = Progress(quiet=args.quiet)
    with OutputLock(out), progress.activate(), quiet_run() as noted, older_objects_frozen():
        result = run(config, progress=progress)
        progress.stage(f"writing {out}")
        folder = write(result, out, force=args.force)
    for note in noted.package:  # what the package warned about is said even with --quiet
        print(f"note: {note}", file=sys.stderr)
    if not args.quiet:
        for note in noted.library + [n for n in result.notes if not _SKIPPED_NOTE.match(n)]:
            print(f"note: {note}", file=sys.stderr)
        written = [Path(folder) / n for n in ("report.html", "report.md") if (Path(folder) / n).exists()]
        report = written[0] if written else f"{folder} (no report: [report] html and markdown off)"
        for line in closing_lines(result, report):
            print(line)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from uncertain_cost.data.load import resolve

    config = _load(args)
    _check_draws(config, args)
    resolved = resolve(config)
    facts, skipped = resolved.facts, resolved.skipped
    print(f"config {config.source} (sha256 {config.sha256[:12]}) is valid")
    print(f"run: {config.run}")
    print(f"{'input':26s} {'scope':10s} {'central':>10s}  distribution")
    for spec in config.inputs:
        print(f"{spec.name:26s} {spec.scope:10s} {spec.distribution.central:10.4g}  {spec.distribution!r}")
    print(f"{int(facts.is_frontier.sum())} frontier models resolved ({len(skipped)} skipped rows/models)")
    if config.section("scenarios"):
        from uncertain_cost.scenarios import scenario_configs

        print(f"scenarios (each valid as a whole config): {', '.join(scenario_configs(config))}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from uncertain_cost.data.epoch import import_epoch
    from uncertain_cost.quiet import quiet_run

    with quiet_run() as noted:
        report = import_epoch(args.folder, args.out, force=args.force)
    for note in noted.all():
        print(f"note: {note}", file=sys.stderr)
    print(report.summary())
    print(f'use it with: [data] tables_dir = "{Path(args.out).resolve()}"')
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


#: API argument -> the estimate option that sets it (error messages name what the user typed)
_ESTIMATE_OPTIONS = {"start": "--start", "reference_month": "--reference-month"}


def _cmd_estimate(args: argparse.Namespace) -> int:
    import json

    from uncertain_cost.api import estimate
    from uncertain_cost.hypothetical import estimate_csv
    from uncertain_cost.money import format_usd

    config = _load(argparse.Namespace(config=args.config, draws=args.draws, seed=args.seed, epoch_dir=None))
    _check_draws(config, args)
    try:
        est = estimate(chip=args.chip, quantity=args.quantity, days=args.days, start=args.start,
                       organization=args.organization, config=config, draws=config.run.draws,
                       reference_month=args.reference_month)
    except ConfigError as exc:
        if exc.key not in _ESTIMATE_OPTIONS:
            raise
        raise ConfigError(_ESTIMATE_OPTIONS[exc.key], exc.message, exc.source) from None
    how = "--reference-month" if est.reference_month_source == "reference_month" else est.reference_month_source
    payload = {**est.to_dict(), "reference_month_source": how}
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    if args.csv:
        print(estimate_csv(payload, est.reference_month), end="")
        return 0
    print(f"{est.name} (USD of {est.reference_month}, the {how}; {est.draws:,} draws)")
    print(f"{'method':12s} {'point (USD)':>12s} {'median (USD)':>13s} {'90% interval (USD)':>24s}")
    for row in est.rows:
        interval = f"{format_usd(row['p5_usd'])} - {format_usd(row['p95_usd'])}"
        print(f"{row['method']:12s} {format_usd(row['point_usd']):>12s} {format_usd(row['median_usd']):>13s} "
              f"{interval:>24s}")
    print("amortized components (medians, USD): " + ", ".join(
        f"{k} {format_usd(v)}" for k, v in est.components.items()))
    for line in _assumption_lines(est.assumptions, config):
        print(line)
    for note in est.notes:
        print(f"note: {note}")
    return 0


def _assumption_lines(facts: dict, config) -> list[str]:
    """Say what ``estimate`` assumed, in words with units (central values; the inputs vary around them)."""
    if not facts:
        return []
    from uncertain_cost.money import format_usd

    source = config.source if config.path is not None else "the embedded default config"
    return [
        f"assumed: {facts['chip']}, {facts['chip_hours']:,.0f} chip-hours; developer {facts['organization']!r} "
        f"({facts['datacentre']} data centre PUE class)",
        f"assumed: purchase price {format_usd(facts['server_price_per_chip_usd'])} per chip (server share "
        f"included, nominal), cloud {format_usd(facts['cloud_price_per_chip_hour_usd'])} per chip-hour "
        f"(3-year committed use), electricity ${facts['electricity_usd_per_kwh']:.3f}/kWh, hardware bought "
        f"{facts['depreciation_years']:.2f} years before the start, interconnect {facts['interconnect_fraction']:.0%} "
        "of cluster cost",
        f"assumed: input distributions of {source} (seed {config.run.seed}); medians and intervals over the draws",
    ]


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "import-epoch": _cmd_import, "priors": _cmd_priors,
            "estimate": _cmd_estimate}


def run_as_program() -> NoReturn:
    """Entry point of the ``uncertain-cost`` script and ``python -m uncertain_cost``: `main`, then exit.

    The process ends without walking its objects once more (:func:`uncertain_cost.heap.exit_without_collecting`).
    Its BLAS uses one thread unless the environment says otherwise (:func:`_one_blas_thread`).
    """
    from uncertain_cost.heap import exit_without_collecting

    _one_blas_thread()
    exit_without_collecting(main())


#: what OpenBLAS (bundled by NumPy's and SciPy's wheels) reads for its thread count, in its order
_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def _one_blas_thread() -> None:
    """Ask OpenBLAS for one thread in this program, before NumPy loads it, unless a count is set.

    Every step multiplies small matrices (the growth fits already limited BLAS to one thread
    with threadpoolctl). A pool is still started when NumPy and SciPy load their BLAS, and
    again in every forked child, and its threads spin on the cores the run's processes need:
    about 0.5 s of CPU in the default run (perf: ``blas_thread_server``). The results are the
    same. A user's ``OPENBLAS_NUM_THREADS``, ``GOTO_NUM_THREADS`` or ``OMP_NUM_THREADS`` is kept.
    """
    import os

    if "numpy" not in sys.modules and not any(os.environ.get(name) for name in _BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a one-line argument error
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    previous = _terminate_as_exit()
    try:
        return COMMANDS[args.command](args)
    except UncertainCostError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except MemoryError:
        print(f"error: {ResourceError('out of memory; lower run.draws (or --draws) or run.keep_draws')}",
              file=sys.stderr)
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class _Terminated(BaseException):
    """Raised from the SIGTERM handler so with-blocks clean up their partial folders."""


def _terminate_as_exit():
    """Turn SIGTERM into an exception (main thread only); return the previous handler."""
    def handler(signum, frame):
        raise _Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from a test runner thread)
        return None


def _one_line(exc: BaseException) -> str:
    """Return the error as one bounded line (messages are bounded where made; this is the last guard)."""
    return clip(" ".join(str(exc).split()), 2000)
