"""Hardware-neutral Bluesky plans: make a sample and count it; deposit a library, measure its spots."""
