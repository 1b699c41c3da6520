"""Build glue: ship the repository's top-level ``priors/`` inside the package.

``priors/`` stays at the top of the repository (curated data, reviewed on its own), and is
mapped to the package ``uncertain_cost.priors`` at build time, so a wheel, ``pip install .``
and a git-URL install all carry it; the package reads it through ``importlib.resources``.
Everything else is declared in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "uncertain_cost.priors"],
    package_dir={"": "src", "uncertain_cost.priors": "priors"},
    package_data={"uncertain_cost": ["py.typed"], "uncertain_cost.priors": ["*.toml"]},
)
