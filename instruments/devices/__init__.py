"""One module per device: its interface (what plans need of it) and its EPICS form (ophyd-async epics).
The simulated forms are in `instruments.simulated`."""
