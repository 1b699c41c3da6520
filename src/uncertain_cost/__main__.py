"""Entry point of ``python -m uncertain_cost``."""

from uncertain_cost.cli import main

raise SystemExit(main())
