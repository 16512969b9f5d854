"""Standard noisy test functions as problems of `benchmarks/peers.py`, beside the simulated worlds.

Every agent of the harness takes a composition simplex with per-element bounds (`peer_agents.Problem`),
so a function of the unit box [0, 1]^d is posed on d + 1 components: d fractions bounded to
[0, 1/d] and a free balance (1 minus their sum). Because d fractions of at most 1/d never sum above
1, the bounds alone make the region exactly the box [0, 1/d]^d, and z = d * x maps it onto the
function's whole box: nothing is cut off, nothing is distorted, the known optimum is attainable, and
every agent (junkan, Ax, BayBE, UCB, random, grid) runs it through the code it runs on the worlds,
with no new kind of parameter in its adapter. A box parameter type in `Problem` would have needed a
second code path in every adapter for one problem.

The noise is Gaussian with a known sd, and the agents that take noise are told its variance, as a
reducer reports the variance of a counted value.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from peer_agents import Problem
from peer_campaigns import Measurement

HARTMANN6_MAX = 3.32237  # max of -Hartmann-6 on [0, 1]^6 (BoTorch's `Hartmann._optimal_value`, negated)
HARTMANN6_ARGMAX = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)
# 10 % of the function's range on the box, [0, 3.32237] (its minimum is within 1e-3 of 0): noise a
# model must average over, not a few percent that a single reading settles
HARTMANN6_NOISE_SD = 0.1 * HARTMANN6_MAX
BALANCE = "balance"


def box_problem(name: str, dim: int, objective: str) -> Problem:
    """The (dim + 1)-component simplex whose first dim fractions, times dim, are the box [0, 1]^dim."""
    elements = (*(f"x{i + 1}" for i in range(dim)), BALANCE)
    return Problem(
        name,
        elements,
        (objective,),
        lower=(0.0,) * (dim + 1),
        upper=(1.0 / dim,) * dim + (1.0,),
        ucb_weights={objective: 1.0},
    )


def to_box(points: np.ndarray) -> np.ndarray:
    """Compositions (n, d + 1) of a `box_problem` as points of the unit box (n, d)."""
    x = np.atleast_2d(points)
    d = x.shape[1] - 1
    return np.clip(d * x[:, :d], 0.0, 1.0)  # rounding error: 6 * (1/6) can be 1 + 2e-16


def hartmann6(z: np.ndarray) -> np.ndarray:
    """-Hartmann-6 (maximised) at points of [0, 1]^6, BoTorch's definition, noise-free (its `forward`
    negates; `evaluate_true` does not); in chunks, so that a million points stay small in memory."""
    import torch
    from botorch.test_functions import Hartmann

    function = Hartmann(dim=6, negate=True)
    values = []
    for chunk in np.array_split(np.atleast_2d(z), max(1, len(np.atleast_2d(z)) // 100_000)):
        with torch.no_grad():
            values.append(function(torch.tensor(chunk, dtype=torch.float64), noise=False).numpy())
    return np.concatenate(values)


FUNCTIONS = {"hartmann6": hartmann6}


class FunctionBench:
    """A test function of the box measured with Gaussian noise of known sd (variance reported)."""

    def __init__(self, problem: Problem, function: str, noise_sd: float, seed: int) -> None:
        self.problem = problem
        self.space = problem.space()
        self.function = FUNCTIONS[function]
        self.noise_sd = noise_sd
        self.rng = np.random.default_rng(seed)  # the run seed: every agent meets the same noise stream

    def measure(self, asked: Mapping[str, float]) -> Measurement:
        x = self.space.project(self.space.as_point(asked))[0]  # rounding error: -1e-17 fractions
        condition = self.space.as_dict(x)
        (objective,) = self.problem.objectives
        value = float(self.function(to_box(x))[0]) + self.noise_sd * float(self.rng.standard_normal())
        moved = float(np.abs(x - self.space.as_point(asked)).max())
        return Measurement(condition, {objective: value}, {objective: self.noise_sd**2}, None, moved)


@dataclass(frozen=True)
class NoisyFunction:
    """A `FUNCTIONS` entry posed as a `box_problem`, measured by `FunctionBench`."""

    function: str
    noise_sd: float
    packages: tuple[str, ...] = ("numpy", "torch", "botorch")

    def bench(self, problem: Problem, seed: int) -> FunctionBench:
        return FunctionBench(problem, self.function, self.noise_sd, seed)

    def identity(self) -> dict[str, Any]:
        return {"function": self.function, "noise_sd": self.noise_sd}

    def code_roots(self) -> tuple[Any, ...]:
        return (FUNCTIONS[self.function],)
