from pathlib import Path

import pytest

# The project's shared data live beside the checkout (../shared), in CI as on a developer's machine.
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def fe_ga_pd_dir() -> Path:
    directory = SHARED / "data" / "fe-ga-pd"
    assert directory.is_dir(), f"the shared Fe-Ga-Pd data are missing: expected them at {directory}"
    return directory
