"""Benchmarks of uncertain_cost: ``python -m benchmarks [--quick]`` runs them all.

Every speed figure is a ratio against a baseline measured in the same process and run
(these machines are shared and noisy); wall times of the CLI verbs are measured in fresh
subprocesses. Nothing here is collected by pytest.
"""
