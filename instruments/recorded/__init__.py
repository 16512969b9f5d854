"""Instruments that serve recorded data: a measured table's rows, through Bluesky runs."""
