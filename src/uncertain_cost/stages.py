"""The optional stages after the Monte Carlo, chosen by the config."""

from __future__ import annotations

from uncertain_cost.config import Config
from uncertain_cost.pipeline import Artifacts, Progress

__all__ = ["default_stages"]


def default_stages(config: Config, art: Artifacts, progress: Progress) -> None:
    """Run growth, sensitivity and development-cost stages enabled in ``config``."""
