"""Priors a campaign file names by import path (tests)."""

import numpy as np


def no_pd_rich(x: np.ndarray) -> np.ndarray:
    return np.where(x[:, 2] > 0.25, 0.0, 1.0)


def wrong_shape(x: np.ndarray) -> np.ndarray:
    return np.ones(3)
