"""Reducers: a finished run's documents in, values with variances out (counts, XRD, XAFS, phase mapping)."""
