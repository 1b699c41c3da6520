"""Files made by the caller and a forked helper (PNGs, results.nc) are the bytes the caller alone makes, all of them."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from uncertain_cost.forking import SharedJobs, fork_allowed  # noqa: E402
from uncertain_cost.reporting.figures import figure_png  # noqa: E402


def _figures(n):
    out = {}
    for i in range(n):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(range(5), [v * (i + 1) for v in range(5)], label=f"line {i}")
        ax.set_title(f"figure {i}")
        ax.legend()
        out[f"f{i}.png"] = fig
    return out


@pytest.mark.parametrize("helper", [False, True])
def test_every_figure_is_rendered_once_with_the_bytes_of_a_serial_render(tmp_path, helper):
    if helper and not fork_allowed():
        pytest.skip("no fork or a single core here")
    figures = _figures(6)
    serial = {name: figure_png(fig) for name, fig in figures.items()}
    scratch = tmp_path / "scratch"
    jobs = {name: (lambda fig=fig: figure_png(fig)) for name, fig in figures.items()}
    pngs = SharedJobs(jobs, scratch, helper=helper).start().finish()
    assert list(pngs) == list(figures)
    assert pngs == serial
    assert not scratch.exists()


def test_a_helper_that_fails_leaves_its_figures_to_the_caller(tmp_path):
    if not fork_allowed():
        pytest.skip("no fork or a single core here")
    figures = _figures(4)
    parent = os.getpid()
    rendered_by = []

    def render(name):
        if os.getpid() != parent:
            raise RuntimeError("the helper fails")
        rendered_by.append(name)
        return figure_png(figures[name])

    jobs = {name: (lambda name=name: render(name)) for name in figures}
    pngs = SharedJobs(jobs, tmp_path / "s", helper=True).start().finish()
    assert sorted(pngs) == sorted(figures) and all(p.startswith(b"\x89PNG") for p in pngs.values())
    assert sorted(rendered_by) == sorted(figures)


def test_a_job_that_fails_in_the_caller_raises_and_leaves_no_scratch(tmp_path):
    def fails():
        raise OSError(28, "No space left on device")

    jobs = {"results.nc": fails, "a.png": lambda: b"png"}
    with pytest.raises(OSError, match="No space left"):
        SharedJobs(jobs, tmp_path / "s", helper=False).start().finish()
    assert not (tmp_path / "s").exists()


def test_an_error_in_the_caller_kills_the_helper_and_removes_the_scratch(tmp_path):
    if not fork_allowed():
        pytest.skip("no fork or a single core here")
    import time

    jobs = {f"{i}.bin": (lambda: time.sleep(60) or b"x") for i in range(3)}
    with pytest.raises(RuntimeError, match="the tables failed"):
        with SharedJobs(jobs, tmp_path / "s", helper=True) as shared:
            pid = shared._pid
            raise RuntimeError("the tables failed")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert not (tmp_path / "s").exists()
