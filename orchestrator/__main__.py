"""`python -m orchestrator` is the `junkan` command."""

from orchestrator.cli import app

app(prog_name="junkan")
