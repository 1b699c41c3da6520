"""How far a reader follows the config, and the Monte Carlo inputs, through the package: modules visited, climbs.

Issue 23's done-when metrics, measured on a real run with :func:`sys.setprofile`:

- **config path**: from the CLI ``run`` entry to the writer, every call of a function of
  ``src/uncertain_cost`` that receives the run's config (a ``Config`` argument, or an object
  carrying it as ``.config``, such as the ``RunResult`` the writer gets) is one step;
- **Monte Carlo path**: within :func:`uncertain_cost.engine.simulate`, every call that
  receives its ``InputSet``.

Consecutive steps in the same module are one visit. *Modules* is the number of distinct
modules on the path; a *climb* is a step from a module to one in a higher layer than the
previous step's (the layers of ``tests/test_architecture.py``; inside the engine layer,
sampling < costs < engine < execution), i.e. the path coming back up after going down.

Run: ``PYTHONPATH=src:. python -m benchmarks.architecture_paths [config.toml] [--draws N]``;
prints both paths and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: rank inside the engine layer (the sampling package below the cost equations below the engine)
ENGINE_ORDER = ("sampling", "costs", "engine", "execution", "hypothetical")


def _layer_of():
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from test_architecture import LAYERS, layer
    finally:
        sys.path.pop(0)

    def rank(module: str) -> tuple[int, int]:
        index = layer(module)
        if LAYERS[index][0] != "engine":
            return index, 0
        rel = module.removeprefix("uncertain_cost.")
        return index, next(k for k, p in enumerate(ENGINE_ORDER) if rel == p or rel.startswith(p + "."))

    return rank


_MODULES: dict[str, str | None] = {}


def _module(frame, package: Path) -> str | None:
    """Dotted module of the frame's code, None outside the package (cached by file name)."""
    filename = frame.f_code.co_filename
    if filename in _MODULES:
        return _MODULES[filename]
    try:
        rel = Path(filename).resolve().relative_to(package.parent)
    except (ValueError, OSError):
        _MODULES[filename] = None
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    _MODULES[filename] = ".".join(parts)
    return _MODULES[filename]


def _arguments(frame) -> list:
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount
    names = code.co_varnames[:n]
    return [frame.f_locals.get(name) for name in names]


def trace_paths(argv: list[str]) -> tuple[list[str], list[str]]:
    """Run ``uncertain_cost.cli.main(argv)`` under a profiler; return (config path, Monte Carlo path)."""
    import uncertain_cost
    from uncertain_cost.cli import main
    from uncertain_cost.config import Config
    from uncertain_cost.inputs import InputSet

    package = Path(uncertain_cost.__file__).resolve().parent
    config_path: list[str] = []
    mc_path: list[str] = []
    inside: list[object] = []  # the InputSet of the simulate call being followed, with its frame

    def carries_config(value) -> bool:
        return isinstance(value, Config) or isinstance(getattr(value, "config", None), Config)

    def profile(frame, event, arg):
        if event == "return" and inside and inside[1] is frame:
            inside.clear()
        if event != "call":
            return
        module = _module(frame, package)
        if module is None:
            return
        args = _arguments(frame)
        if any(carries_config(a) for a in args):
            config_path.append(module)
        if not inside and module == "uncertain_cost.engine" and frame.f_code.co_name == "simulate":
            found = [a for a in args if isinstance(a, InputSet)]
            if found:
                inside[:] = [found[0], frame]
        if inside and any(a is inside[0] or getattr(a, "inputs", None) is inside[0] for a in args):
            mc_path.append(module)

    sys.setprofile(profile)
    try:
        code = main(argv)
    finally:
        sys.setprofile(None)
    if code != 0:
        raise SystemExit(f"the run failed with exit code {code}")
    return config_path, mc_path


def summarize(path: list[str], rank) -> dict:
    """Visits (consecutive repeats merged), distinct modules and climbs of a path."""
    visits = [m for k, m in enumerate(path) if k == 0 or path[k - 1] != m]
    climbs = [(a, b) for a, b in zip(visits, visits[1:], strict=False) if rank(b) > rank(a)]
    return {"modules": len(dict.fromkeys(visits)), "climbs": len(climbs), "visits": visits,
            "climbs_at": [f"{a} -> {b}" for a, b in climbs]}


def main(args: list[str] | None = None) -> dict:
    """Measure both paths on a run of ``config`` and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default=str(REPO / "config.toml"))
    parser.add_argument("--draws", type=int, default=2000)
    opts = parser.parse_args(args)
    rank = _layer_of()
    with tempfile.TemporaryDirectory() as tmp:
        config_path, mc_path = trace_paths(["run", opts.config, "--out", str(Path(tmp) / "run"), "--quiet",
                                            "--draws", str(opts.draws)])
    out = {"config": summarize(config_path, rank), "monte_carlo": summarize(mc_path, rank)}
    for name, found in out.items():
        print(f"{name}: {found['modules']} modules, {found['climbs']} climbs")
        print("  " + " -> ".join(m.removeprefix("uncertain_cost.") for m in found["visits"]))
        for climb in found["climbs_at"]:
            print(f"  climb: {climb}")
    print(json.dumps({f"{k}_{m}": v[m] for k, v in out.items() for m in ("modules", "climbs")}))
    return out


if __name__ == "__main__":
    main()
