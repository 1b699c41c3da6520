"""The package's shape: an import graph without circles, layers imported only downwards, short functions.

The graph is read from the source with :mod:`ast` (no import runs): every ``import`` and
``from ... import`` of a module of ``src/uncertain_cost`` is an arrow, at module level or inside
a function, plus an arrow to each package whose ``__init__`` the import runs (when that
``__init__`` imports anything). The layer order is declared once, in :data:`LAYERS`, and drawn
in ``docs/architecture.md``.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "uncertain_cost"

#: lowest first; a module belongs to the layer of the longest prefix that names it (relative to the package)
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("", "errors", "units", "money", "defaults", "caches", "threads", "distributions", "inputs",
              "progress", "quiet", "tables", "kernel_cache", "folders")),
    ("config", ("config",)),
    ("data", ("data",)),
    ("engine", ("sampling", "engine", "costs", "cost_params", "lean", "memory", "execution", "hypothetical")),
    # the domain steps; the figures the pipeline draws in its last step sit beside them
    ("steps", ("growth", "sensitivity", "devcost", "reporting.figures")),
    ("pipeline", ("pipeline", "stages", "result", "results", "scenarios")),
    ("reporting", ("reporting",)),
    ("io", ("writer",)),
    ("api", ("api",)),
    ("cli", ("cli", "__main__")),
)

#: arrows that go up a layer on purpose (importer, imported): each must be an import inside a function
LAZY_UP = {
    # the public API's lazy __init__ (PEP 562 __getattr__): `import uncertain_cost` stays light
    ("uncertain_cost", "uncertain_cost.api"),
    ("uncertain_cost", "uncertain_cost.config"),
    ("uncertain_cost", "uncertain_cost.result"),
    # RunResult.write / .report / __repr__ / _repr_html_ are public API that delegate to the writer,
    # the report and its overview
    ("uncertain_cost.result", "uncertain_cost.writer"),
    ("uncertain_cost.result", "uncertain_cost.reporting.report"),
    ("uncertain_cost.result", "uncertain_cost.reporting.overview"),
}
#: arrows up from the config layer: none (the domain packages register their sections with it;
#: ``uncertain_cost.SECTION_OWNERS`` names them as strings)
CONFIG_UP: set[tuple[str, str]] = set()

#: longest function in src/ (lines from ``def`` to its last line)
MAX_FUNCTION_LINES = 100
#: functions over the limit that this change could not split, with the owner who will (none left)
LONG_FUNCTIONS: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the package."""
    return {_module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _owner(name: str) -> str | None:
    """The module that ``name`` (a module, or an attribute of one) lives in."""
    mods = modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, name: str) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import statement of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == PACKAGE:
                owner = _owner(target)
                if owner is not None:
                    out.append((owner, id(node) not in nested))
    return out


@cache
def graph() -> dict[tuple[str, str], bool]:
    """(importer, imported) -> whether any of its imports is at module level (else only inside functions)."""
    mods = modules()
    edges: dict[tuple[str, str], bool] = {}
    direct = {name: _imports(path, name) for name, path in mods.items()}
    eager_packages = {n for n, p in mods.items() if p.name == "__init__.py" and direct[n]}
    for name, found in direct.items():
        for target, top in found:
            parents = target.split(".")
            implied = {".".join(parents[:k]) for k in range(1, len(parents))} & eager_packages
            for imported in {target} | implied:
                if imported != name and not name.startswith(imported + "."):
                    edges[(name, imported)] = edges.get((name, imported), False) or top
    return edges


def layer(module: str) -> int:
    """Index in :data:`LAYERS` of ``module`` (longest matching prefix)."""
    rel = module.removeprefix(PACKAGE).removeprefix(".")
    best, index = -1, None
    for k, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (rel == prefix or rel.startswith(prefix + ".") or prefix == "") and len(prefix) > best:
                best, index = len(prefix), k
    if index is None:
        raise KeyError(module)
    return index


def _cycle(edges) -> list[str] | None:
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(succ.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(succ):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_is_read():
    edges = graph()
    assert len(modules()) > 60 and len(edges) > 150
    assert edges[("uncertain_cost.pipeline", "uncertain_cost.stages")] is True
    assert edges[("uncertain_cost.result", "uncertain_cost.writer")] is False  # inside RunResult.write


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)
    assert LAYERS[layer("uncertain_cost.reporting.figures")][0] == "steps"
    assert LAYERS[layer("uncertain_cost.reporting.report")][0] == "reporting"


def test_no_import_circle():
    edges = [e for e in graph() if e not in LAZY_UP]
    assert _cycle(edges) is None, " -> ".join(_cycle(edges))


def test_the_cycle_finder_finds_one():
    assert _cycle([("a", "b"), ("b", "c"), ("c", "a")]) == ["a", "b", "c", "a"]
    assert _cycle([("a", "b"), ("a", "c"), ("b", "c")]) is None


def test_no_module_imports_from_a_layer_above():
    up = sorted((a, b) for a, b in graph() if layer(b) > layer(a))
    unexpected = [f"{a} ({LAYERS[layer(a)][0]}) -> {b} ({LAYERS[layer(b)][0]})" for a, b in up
                  if (a, b) not in LAZY_UP | CONFIG_UP]
    assert unexpected == []
    lazy_at_top = [e for e in LAZY_UP if graph().get(e)]
    assert lazy_at_top == [], "these upward arrows must stay inside functions"


def test_the_allow_lists_are_current():
    """An allowed arrow that no longer exists must leave the list (so the lists only shrink)."""
    assert sorted(e for e in LAZY_UP | CONFIG_UP if e not in graph()) == []


def _long_functions() -> dict[str, int]:
    out = {}
    for path in modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                doc = ast.get_docstring(node) or ""
                compiled = any("njit" in ast.unparse(d) for d in node.decorator_list) and "compiled" in doc.lower()
                if lines > MAX_FUNCTION_LINES and not compiled:
                    out[f"{path.relative_to(SRC / PACKAGE).as_posix()}:{node.name}"] = lines
    return out


def test_no_function_over_100_lines():
    long = _long_functions()
    assert sorted(set(long) - LONG_FUNCTIONS) == []
    assert sorted(LONG_FUNCTIONS - set(long)) == [], "split: remove from LONG_FUNCTIONS"


@pytest.mark.parametrize("module", ["uncertain_cost.execution", "uncertain_cost.engine"])
def test_backends_never_call_back_into_the_pipeline(module):
    above = {b for (a, b) in graph() if a == module and layer(b) >= layer("uncertain_cost.pipeline")}
    assert above == set()


@pytest.mark.slow
def test_following_the_config_and_the_inputs(tmp_path):
    """Issue 23's done-when figures on a small run (the default config's: benchmarks/architecture_paths.py)."""
    import sys

    sys.path.insert(0, str(SRC.parent))
    try:
        from benchmarks.architecture_paths import _layer_of, summarize, trace_paths
    finally:
        sys.path.pop(0)
    config = tmp_path / "small.toml"
    config.write_text("[run]\ndraws = 2000\nkeep_draws = 500\n[growth]\nbayes = false\n[sensitivity]\nsobol = false\n"
                      "[report]\npng = false\n", encoding="utf-8")
    config_path, mc_path = trace_paths(["run", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    rank = _layer_of()
    followed = summarize(config_path, rank, "uncertain_cost.cli", until="uncertain_cost.writer")
    assert followed["visits"][:3] == ["uncertain_cost.cli", "uncertain_cost.api", "uncertain_cost.pipeline"]
    assert followed["visits"][-1] == "uncertain_cost.writer"
    assert followed["modules"] <= 8 and followed["climbs"] <= 3, followed
    inputs = summarize(mc_path, rank, "uncertain_cost.engine")
    assert "uncertain_cost.sampling.design" in inputs["visits"]
    assert inputs["climbs"] <= 1, inputs
