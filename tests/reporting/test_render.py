"""Figures rendered by the caller and a forked helper are the bytes the caller alone renders; none is lost."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from uncertain_cost.forking import fork_allowed  # noqa: E402
from uncertain_cost.reporting.figures import figure_png  # noqa: E402
from uncertain_cost.reporting.render import PngRendering  # noqa: E402


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
    pngs = PngRendering(list(figures), lambda name: figure_png(figures[name]), scratch, helper=helper).start().finish()
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

    pngs = PngRendering(list(figures), render, tmp_path / "s", helper=True).start().finish()
    assert sorted(pngs) == sorted(figures) and all(p.startswith(b"\x89PNG") for p in pngs.values())
    assert sorted(rendered_by) == sorted(figures)
