import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli import app

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


@pytest.fixture
def quickstart() -> dict:
    return yaml.safe_load(QUICKSTART.read_text())


@pytest.fixture
def write_campaign(tmp_path):
    """Writes a campaign (a dict, or raw YAML text) to a file and returns its path."""

    def write(campaign: dict | str, name: str = "campaign.yaml") -> Path:
        path = tmp_path / name
        path.write_text(
            campaign
            if isinstance(campaign, str)
            else yaml.safe_dump(copy.deepcopy(campaign), sort_keys=False)
        )
        return path

    return write


@pytest.fixture
def junkan():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def short_campaign(quickstart) -> dict:
    """The quickstart with a short budget and a light optimiser, for fast end-to-end runs."""
    campaign = copy.deepcopy(quickstart)
    campaign.update(budget=6)
    campaign["policy"].update(n_sobol=3, num_restarts=2, raw_samples=32, mc_samples=64)
    return campaign
