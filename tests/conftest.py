import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
EPOCH_DATA = REPO.parent / "shared" / "epoch-data"


@pytest.fixture(scope="session")
def default_inputs():
    from uncertain_cost.defaults import load_input_defaults
    from uncertain_cost.inputs import parse_inputs

    return parse_inputs(load_input_defaults(), defaults_source="priors/inputs.toml")
