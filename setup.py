"""Build glue: ship the repository's top-level ``priors/`` and ``examples/`` inside the package.

``priors/`` stays at the top of the repository (curated data, reviewed on its own), and is
mapped to the package ``uncertain_cost.priors`` at build time, so a wheel, ``pip install .``
and a git-URL install all carry it; the package reads it through ``importlib.resources``.
``examples/`` is mapped the same way to ``uncertain_cost.examples`` (``uc.example_config``).
Everything else is declared in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "uncertain_cost.priors", "uncertain_cost.examples"],
    package_dir={"": "src", "uncertain_cost.priors": "priors", "uncertain_cost.examples": "examples"},
    package_data={"uncertain_cost": ["py.typed"], "uncertain_cost.priors": ["*.toml"],
                  "uncertain_cost.examples": ["*.toml"]},
)
