"""Entry point of ``python -m uncertain_cost``."""

from uncertain_cost.cli import run_as_program

run_as_program()
