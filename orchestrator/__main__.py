"""`python -m orchestrator` is the `junkan` command."""

from orchestrator.cli import main

main()
