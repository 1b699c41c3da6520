"""The Dask backend gives the local backend's bytes, for any chunking; without the extra it says what to install."""

import builtins
import filecmp

import pytest

from uncertain_cost.cli import main
from uncertain_cost.config import load_config
from uncertain_cost.errors import ConfigError
from uncertain_cost.pipeline import run_config
from uncertain_cost.sampling.design import BLOCK_DRAWS

CONFIG = f"""
[run]
draws = {BLOCK_DRAWS + 100}
keep_draws = 400
seed = 3

[sensitivity]
sobol = false
growth = false
models = ["GPT-4"]

[development]
models = ["GPT-4"]

[growth]
bayes = false

[report]
png = false
"""

SCENARIOS = """
[scenarios.baseline]

[scenarios.tpu_within_x2.inputs.tpu_price]
ci90 = [0.5, 2.0]
"""


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (pip install "
                                      "'uncertain_cost[dask]')")
    import dask

    with dask.config.set({"distributed.worker.daemon": False}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                         dashboard_address=None)
    yield local
    local.close()


def _tables(result):
    return [f"{name}.csv" for name in result.table_names()] + ["summary.json"]


@pytest.mark.parametrize(("scenarios", "blocks_per_task"), [
    pytest.param(False, 2, marks=pytest.mark.slow),  # the scenario case below runs the same tasks
    pytest.param(True, 1, marks=pytest.mark.slow),  # ~25 s: a local cluster and two full runs (.ci/run runs -m slow)
])
def test_dask_equals_local_byte_for_byte(cluster, tmp_path, scenarios, blocks_per_task):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG + (SCENARIOS if scenarios else ""), encoding="utf-8")
    local = run_config(load_config(path))
    remote = run_config(load_config(path, {"execution.backend": "dask", "execution.scheduler":
                                           cluster.scheduler_address,
                                           "execution.blocks_per_task": blocks_per_task}))
    a, b = local.write(tmp_path / "local"), remote.write(tmp_path / "dask")
    names = _tables(local)
    assert "tornado.csv" in names and "devcost.csv" in names
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert (mismatch, errors) == ([], []) and len(match) == len(names)
    assert local.group("costs")["cost"].equals(remote.group("costs")["cost"])


def test_without_the_extra_the_error_says_how_to_install(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    path = tmp_path / "c.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(ConfigError, match=r"pip install 'uncertain_cost\[dask\]'"):
        run_config(load_config(path, {"execution.backend": "dask"}))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "uncertain_cost[dask]" in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
