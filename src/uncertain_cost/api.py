"""The Python API for notebooks and scripts: run a config, cost one hypothetical run.

>>> import uncertain_cost as uc                                    # doctest: +SKIP
>>> result = uc.run("config.toml", draws=1000, seed=3)             # doctest: +SKIP
>>> result.summary().query("model == 'GPT-4'")                     # doctest: +SKIP
>>> uc.estimate(chip="H100", quantity=100_000, days=90, start="2026-01-01").summary()  # doctest: +SKIP

The command line (:mod:`uncertain_cost.cli`) is a thin layer over these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uncertain_cost.config import Config, arguments, default_config, load_config, parse_config
from uncertain_cost.config.schema import Invalid, clip
from uncertain_cost.config.schema import month as month_arg
from uncertain_cost.config.schema import show as _shown
from uncertain_cost.config.sections import EXECUTION, RUN
from uncertain_cost.errors import ArgumentError, ConfigError
from uncertain_cost.progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from uncertain_cost.result import RunResult  # xarray and pandas: not imported by estimate

__all__ = ["run", "write", "estimate", "load_config", "example_config", "example_names", "Estimate"]


def _current(config: Config, key: str) -> Any:
    """Value of dotted ``key`` (``"run.draws"``) in ``config`` (a sentinel when it has none)."""
    section, _, name = key.partition(".")
    return getattr(getattr(config, section, None), name, _MISSING)


_MISSING = object()


#: config keys a quick preview (``run --quick``, ``uc.run(quick=True)``) sets: no Bayesian fit, no sensitivity
QUICK_OVERRIDES = {"growth.bayes": False, "sensitivity.enabled": False}


def _config(config: Config | str | Path | Mapping[str, Any] | None, overrides: dict) -> Config:
    if not (config is None or isinstance(config, Config | str | Path | Mapping)):
        raise ConfigError("config", f"expected a config file path, a mapping, a Config or None, got {_shown(config)}")
    if config is None:
        return default_config(overrides)
    if isinstance(config, Config):
        if all(_current(config, key) == value for key, value in overrides.items()):
            return config
        path = config.path
        if path is None:
            return parse_config(config.raw, overrides={**config.overrides, **overrides})
        return load_config(path, {**config.overrides, **overrides})
    if isinstance(config, Mapping):
        return parse_config(config, overrides=overrides)
    return load_config(Path(config), overrides)


def _check_overrides(**given: Any) -> None:
    """Check arguments that override config keys with those keys' own checkers, naming the argument."""
    sections = {"draws": RUN, "seed": RUN, "backend": EXECUTION, "workers": EXECUTION}
    for name, value in given.items():
        if value is None:
            continue
        key = next(k for k in sections[name].keys if k.name == name)
        try:
            key.check(value)
        except Invalid as exc:
            raise ConfigError(name, exc.problem) from None


def _examples_dir() -> Path:
    """Find the example configs: the repository's ``examples/`` in a checkout, else the wheel's copy."""
    from importlib import resources

    here = Path(__file__).resolve()
    if here.parents[1].name == "src" and (here.parents[2] / "examples").is_dir():
        return here.parents[2] / "examples"
    return Path(str(resources.files("uncertain_cost") / "examples"))


def example_names() -> tuple[str, ...]:
    """Names of the example configs shipped with the package (``"paper-v1"``, ``"scenarios"``, ...)."""
    return tuple(sorted(p.stem for p in _examples_dir().glob("*.toml")))


def example_config(name: str, **overrides: Any) -> Config:
    """Load one of the example configs shipped with the package (also from an installed wheel).

    Parameters
    ----------
    name : str
        ``"paper-v1"``, ``"scenarios"``, ... (see :func:`example_names`; ``.toml`` optional).
    **overrides
        Dotted keys as for :func:`load_config` (``**{"run.draws": 1000}``).

    Returns
    -------
    Config
        Paths inside the example (such as an ``epoch_dir``) resolve relative to the example's file.

    Raises
    ------
    uncertain_cost.ConfigError
        For an unknown name, naming the closest matches.

    Examples
    --------
    >>> import uncertain_cost as uc                                  # doctest: +SKIP
    >>> result = uc.run(uc.example_config("paper-v1"), draws=2000)   # doctest: +SKIP
    """
    import difflib

    stem = str(name).removesuffix(".toml").removeprefix("examples/")
    path = _examples_dir() / f"{stem}.toml"
    if not path.is_file():
        names = example_names()
        close = difflib.get_close_matches(stem, names, n=3, cutoff=0.4)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise ConfigError("example", f"no example {_shown(stem)}; {hint}examples: {', '.join(names)}")
    return load_config(path, dict(overrides) or None)


def run(config: Config | str | Path | Mapping[str, Any] | None = None, *, draws: int | None = None,
        seed: int | None = None, epoch_dir: str | Path | None = None, quiet: bool | None = None,
        backend: str | None = None, workers: int | None = None, progress: bool | Progress | None = None,
        quick: bool = False) -> RunResult:
    """Run a config: Monte Carlo costs, growth, sensitivity and development cost.

    Parameters
    ----------
    config : Config, path, mapping or None
        A config file, a parsed TOML mapping, a :class:`~uncertain_cost.config.Config`, or None
        for the embedded default job (the repository's ``config.toml``).
    draws, seed : int, optional
        Override ``run.draws`` / ``run.seed``.
    epoch_dir : str or pathlib.Path, optional
        Override ``data.epoch_dir`` (an Epoch AI export folder).
    quiet : bool, optional
        No stage lines or progress bars (the opposite of ``progress``).
    progress : bool or Progress, optional
        Stage lines and progress bars (draws, each Bayesian fit) on stderr, or in a Jupyter
        notebook. Default: on in a notebook, off in scripts (unless ``quiet=False``). A
        :class:`~uncertain_cost.progress.Progress` (the command line's) is used as given.
    backend : {"local", "dask"}, optional
        Override ``execution.backend``; ``workers`` alone implies ``"dask"``.
    workers : int, optional
        Override ``execution.workers`` (a Dask LocalCluster of this many processes).
    quick : bool, default False
        A preview in seconds (:data:`QUICK_OVERRIDES`): the cost tables, the paper's OLS growth
        and a forecast from the OLS line; the Bayesian fits, their checks and the sensitivity
        analyses are skipped, and the result's notes say so.

    Returns
    -------
    RunResult
        ``.tree`` (xarray.DataTree), ``.summary()`` (pandas DataFrame), ``.write(folder)``,
        ``.report()``. With ``[scenarios]``, every table has a first column ``scenario`` and
        every results.nc group a ``scenario`` dimension (:mod:`uncertain_cost.scenarios`).

    Raises
    ------
    uncertain_cost.ConfigError
        For a bad config, before any work.
    """
    import sys

    from uncertain_cost.pipeline import run_config
    from uncertain_cost.progress import in_notebook
    from uncertain_cost.quiet import quiet_run

    if not isinstance(quick, bool):
        raise ArgumentError("quick", f"expected True or False, got {quick!r}", "run")
    _check_overrides(draws=draws, seed=seed, backend=backend, workers=workers)
    overrides: dict[str, Any] = dict(QUICK_OVERRIDES) if quick else {}
    if draws is not None:
        overrides["run.draws"] = draws
    if seed is not None:
        overrides["run.seed"] = seed
    if epoch_dir is not None:
        if not isinstance(epoch_dir, str | Path):
            raise ConfigError("epoch_dir", f"expected a folder path, got {_shown(epoch_dir)}")
        overrides["data.epoch_dir"] = str(Path(epoch_dir).resolve())
    if quiet is not None and not isinstance(quiet, bool):
        raise ConfigError("quiet", f"expected True, False or None, got {_shown(quiet)}")
    if backend is not None or workers is not None:
        overrides["execution.backend"] = backend or "dask"
    if workers is not None:
        overrides["execution.workers"] = workers
    if isinstance(progress, Progress):  # the caller's reporter (the CLI's): it shows and notes as it likes
        return run_config(_config(config, overrides), progress)
    show = progress if progress is not None else (not quiet if quiet is not None else in_notebook())
    reporter = Progress(quiet=not show)
    if not show:  # warnings reach the caller as warnings
        with reporter.activate():
            return run_config(_config(config, overrides), reporter)
    with reporter.activate(), quiet_run() as noted:  # shown: notes instead of library noise
        result = run_config(_config(config, overrides), reporter)
    for note in noted.all():
        print(f"note: {note}", file=sys.stderr)
    return result


def write(result: RunResult, destination: str | Path, *, force: bool = False) -> Path:
    """Write the run folder of ``result`` (CSV/JSON tables, results.nc, figures, report) atomically.

    Parameters
    ----------
    result : RunResult
    destination : str or pathlib.Path
    force : bool, default False
        Replace a folder that is not a previous run folder of this tool.

    Returns
    -------
    pathlib.Path
        The completed folder.
    """
    from uncertain_cost.writer import write_result

    return write_result(destination, result, force=force)


@dataclass(frozen=True)
class Estimate:
    """The cost of one hypothetical training run under the three methods.

    Attributes
    ----------
    name : str
        Label of the run.
    reference_month : str
        Dollars of this month.
    draws : int
    rows : tuple of dict
        One per method: ``method, point_usd, median_usd, mean_usd, p5_usd, p95_usd``.
    components : dict
        Amortized components (median USD).
    notes : tuple of str
        Extrapolations and assumptions the estimate made.
    reference_month_source : str
        Why these dollars: ``"latest month of the PPI deflator"`` or ``"reference_month"``.
    assumptions : dict
        The central facts the run was costed from (chip, chip-hours, prices, data-centre class).
    """

    name: str
    reference_month: str
    draws: int
    rows: tuple[dict, ...]
    components: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    reference_month_source: str = "latest month of the PPI deflator"
    assumptions: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``name, notes, rows, components, assumptions, reference_month, reference_month_source`` (the CLI's JSON)."""
        return {"name": self.name, "notes": list(self.notes), "rows": [dict(r) for r in self.rows],
                "components": dict(self.components), "assumptions": dict(self.assumptions),
                "reference_month": self.reference_month, "reference_month_source": self.reference_month_source}

    def summary(self) -> pd.DataFrame:
        """One row per method (``amortized``, ``cloud``, ``acquisition``)."""
        import pandas as pd

        return pd.DataFrame(list(self.rows))


def _arguments(**given: Any) -> tuple[int, float, date, int]:
    """Check ``estimate``'s arguments with the command line's checkers (:mod:`uncertain_cost.config.arguments`)."""
    for name in ("chip", "organization"):
        value = given[name]
        if not (isinstance(value, str) and value.strip() and len(value) <= 300) and not (
                name == "organization" and value is None):
            raise ConfigError(name, f"expected a name (text of 1 to 300 characters), got {_shown(value)}")
    checked = []
    for name in ("quantity", "days", "start", "draws"):
        try:
            checked.append(getattr(arguments, name)(given[name]))
        except Invalid as exc:
            raise ConfigError(name, exc.problem) from None
    return tuple(checked)


def estimate(*, chip: str, quantity: float, days: float, start: str | date, organization: str | None = None,
             config: Config | str | Path | Mapping[str, Any] | None = None, draws: int = 20_000,
             seed: int | None = None, reference_month: str | None = None) -> Estimate:
    """Cost one hypothetical training run ("100k H100 for 90 days from 2026-01").

    Parameters
    ----------
    chip : str
        Accelerator, as in the chip table (``"H100"``, ``"Google TPU v5p"``).
    quantity : float
        Number of accelerators.
    days : float
        Training duration in days.
    start : str or datetime.date
        Training start (``"YYYY-MM-DD"``).
    organization : str, optional
        Developer; decides PUE class and cloud vendor.
    config : Config, path, mapping or None
        Config whose inputs, data and reference month to use (default: the embedded default).
    draws : int, default 20000
    seed : int, optional
        Default: the config's ``run.seed``.
    reference_month : str, optional
        Dollars of this month (``"YYYY-MM"``); default the latest month of the deflator
        (today's dollars), as the ``estimate`` command.

    Returns
    -------
    Estimate
    """
    from uncertain_cost.data.priors import load_embedded_tables
    from uncertain_cost.hypothetical import (
        Hypothetical,
        check_reference_month,
        estimate_run,
        latest_deflator_month,
    )

    quantity, days, start, draws = _arguments(chip=chip, quantity=quantity, days=days, start=start, draws=draws,
                                              organization=organization)
    _check_overrides(seed=seed)
    overrides: dict[str, Any] = {"run.draws": draws}
    if seed is not None:
        overrides["run.seed"] = seed
    cfg = _config(config, overrides)
    if cfg.data.epoch_dir is not None:
        from uncertain_cost.data.epoch import read_epoch_snapshot

        tables, _ = read_epoch_snapshot(cfg.data.epoch_dir)
    else:
        tables = load_embedded_tables()
    try:
        arguments.check_start(start, days, tables)
    except Invalid as exc:
        raise ConfigError("start", exc.problem) from None
    hypothetical = Hypothetical(chip, quantity, days, start, organization or "Hypothetical lab")
    if reference_month is None:
        month, how = latest_deflator_month(tables), "latest month of the PPI deflator"
    else:
        try:
            month, how = check_reference_month(tables, month_arg(reference_month)), "reference_month"
        except (Invalid, ValueError) as err:
            raise ConfigError("reference_month", clip(getattr(err, "problem", str(err)))) from None
    out = estimate_run(tables, cfg.inputs, hypothetical, reference_month=month,
                       draws=cfg.run.draws, seed=cfg.run.seed, interconnect_fraction=cfg.run.interconnect_fraction)
    return Estimate(out["name"], month, cfg.run.draws, tuple(out["rows"]),
                    dict(out["components"]), tuple(out["notes"]), how, dict(out.get("assumptions", {})))
