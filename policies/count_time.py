"""Measurement time from the noise model: count until the noise sd reaches a target, no longer.

Counting noise scales as 1/t, so each observation's variance times its count time is a rate,
modelled over the space (a log-rate GP); with a counting noise model the rate is scaled by its
over-dispersion, and its floor s0^2 cannot be counted away: a target below the floor gets the
longest time allowed.
"""

from dataclasses import dataclass

import numpy as np
import torch

from policies.noise import CountingNoise, LogNormalVariance, NoiseModel, log_normal_variance


@dataclass(frozen=True)
class CountTimeRule:
    """Choose each measurement's count time in [min_s, max_s] to reach `target_sd` on the first objective."""

    min_s: float
    max_s: float
    target_sd: float

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError(f"count time range [{self.min_s}, {self.max_s}] s: need 0 < min <= max")
        if self.target_sd <= 0:
            raise ValueError(f"target_sd must be > 0, got {self.target_sd}")


def rate_model(
    x: torch.Tensor, variances: np.ndarray, count_times: np.ndarray, bounds: torch.Tensor
) -> LogNormalVariance:
    """The rate (variance x count time) of the first objective's observations over the space."""
    rates = torch.tensor(variances * count_times, dtype=torch.float64).clamp_min(1e-12)
    return log_normal_variance(
        x, rates.log().unsqueeze(-1), torch.full((len(rates), 1), 0.01, dtype=torch.float64), bounds
    )


def count_time(rule: CountTimeRule, rates: LogNormalVariance, free: torch.Tensor, noise: NoiseModel) -> float:
    """Seconds to reach the rule's target sd at one point (free coordinates, shape (1, d))."""
    rate = float(rates.predict(free).squeeze())
    phi, floor = (noise.phi, noise.s0**2) if isinstance(noise, CountingNoise) else (1.0, 0.0)
    if rule.target_sd**2 <= floor:
        return rule.max_s
    seconds = phi * rate / (rule.target_sd**2 - floor)
    return float(np.clip(round(seconds, 1), rule.min_s, rule.max_s))
