"""How far a reader follows the config, and the Monte Carlo inputs, through the package: modules visited, climbs.

Issue 23's done-when metrics, measured on a real run with :func:`sys.setprofile`:

- **config path**: from the CLI ``run`` entry to its hand-off to the writer, every hand-off of the run's
  config (a call of a package function from another package module with a ``Config``
  argument, or an object carrying it as ``.config``, such as the ``RunResult`` the writer
  gets);
- **Monte Carlo path**: inside the first :func:`uncertain_cost.engine.simulate` call, every
  hand-off of its ``InputSet`` (or of an object carrying it as ``.inputs``).

A call of a method on the carried object itself (``config.section(...)``) is the object being
used, not a hand-off. *Modules* counts the distinct modules the path visits (the entry and
every callee); a *climb* is a distinct hand-off from a module to one in a higher layer (the
layers of ``tests/test_architecture.py``; inside the engine layer sampling < costs < engine <
execution): control going back up the layers instead of down.

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


def trace_paths(argv: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Run ``uncertain_cost.cli.main(argv)`` under a profiler; return the (caller, callee) hand-offs of both paths."""
    import uncertain_cost
    from uncertain_cost.cli import main
    from uncertain_cost.config import Config
    from uncertain_cost.inputs import InputSet

    package = Path(uncertain_cost.__file__).resolve().parent
    config_path: list[tuple[str, str]] = []
    mc_path: list[tuple[str, str]] = []
    state: dict = {"inputs": None, "frame": None, "done": False}

    def carries_config(value) -> bool:
        return isinstance(value, Config) or isinstance(getattr(value, "config", None), Config)

    def carries_inputs(value) -> bool:
        return value is state["inputs"] or getattr(value, "inputs", None) is state["inputs"]

    def caller(frame) -> str | None:
        up = frame.f_back
        while up is not None:
            module = _module(up, package)
            if module is not None:
                return module
            up = up.f_back
        return None

    def profile(frame, event, arg):
        if event == "return" and frame is state["frame"]:
            state.update(inputs=None, frame=None, done=True)
        if event != "call":
            return
        module = _module(frame, package)
        if module is None:
            return
        args = _arguments(frame)
        # a method of the carried object itself (``self``) is the object being used, not a hand-off
        handed = args[1:] if frame.f_code.co_varnames[:1] == ("self",) else args
        if any(carries_config(a) for a in handed):
            config_path.append((caller(frame), module))
        if (not state["done"] and state["inputs"] is None and module == "uncertain_cost.engine"
                and frame.f_code.co_name == "simulate"):
            found = [a for a in args if isinstance(a, InputSet)]
            if found:
                state.update(inputs=found[0], frame=frame)
                return
        if state["inputs"] is not None and any(carries_inputs(a) for a in handed):
            mc_path.append((caller(frame), module))

    sys.setprofile(profile)
    try:
        code = main(argv)
    finally:
        sys.setprofile(None)
    if code != 0:
        raise SystemExit(f"the run failed with exit code {code}")
    return config_path, mc_path


def summarize(handoffs: list[tuple[str, str]], rank, start: str, until: str | None = None) -> dict:
    """Modules visited (``start`` and every callee, up to the first hand-off to ``until``) and climbs.

    A climb is a distinct hand-off from a module to one in a higher layer.
    """
    steps = [(a, b) for a, b in handoffs if a is not None and a != b]
    if until is not None and any(b == until for _, b in steps):
        steps = steps[:next(k for k, (_, b) in enumerate(steps) if b == until) + 1]
    visits = list(dict.fromkeys([start] + [b for _, b in steps]))
    climbs = list(dict.fromkeys(f"{a} -> {b}" for a, b in steps if rank(b) > rank(a)))
    return {"modules": len(visits), "climbs": len(climbs), "visits": visits, "climbs_at": climbs}


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
    out = {"config": summarize(config_path, rank, "uncertain_cost.cli", until="uncertain_cost.writer"),
           "monte_carlo": summarize(mc_path, rank, "uncertain_cost.engine")}
    for name, found in out.items():
        print(f"{name}: {found['modules']} modules, {found['climbs']} climbs")
        print("  " + " -> ".join(m.removeprefix("uncertain_cost.") for m in found["visits"]))
        for climb in found["climbs_at"]:
            print(f"  climb: {climb}")
    print(json.dumps({f"{k}_{m}": v[m] for k, v in out.items() for m in ("modules", "climbs")}))
    return out


if __name__ == "__main__":
    main()
