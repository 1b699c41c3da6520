"""Where the shared Epoch snapshots live (``../shared/epoch-data`` from the repo root).

``UNCERTAIN_COST_EPOCH_DATA`` overrides the location (useful from a git worktree that
is not a sibling of ``shared/``).
"""

import os
from pathlib import Path

import pytest

EPOCH_DATA = Path(
    os.environ.get(
        "UNCERTAIN_COST_EPOCH_DATA",
        Path(__file__).resolve().parents[1].parent / "shared" / "epoch-data",
    )
)
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def snapshot(name: str) -> Path:
    """Return the snapshot folder, or skip the test when it is not present."""
    folder = EPOCH_DATA / name
    if not (folder / "All ML Systems - full view.csv").is_file():
        pytest.skip(f"Epoch snapshot {folder} not present (shared data are not in the repo)")
    return folder
