"""Fit hyperparameters on a schedule, condition on all data in between.

A GP's hyperparameter fit costs seconds at a thousand points; conditioning with known
hyperparameters costs one Cholesky. Every model a policy keeps follows a schedule that is a
function of the data size alone, so a resumed or replayed policy builds the models the original
built.
"""

import torch
from botorch.models import SingleTaskGP


def last_on_schedule(n: int, every_up_to: int, growth: float) -> int:
    """The largest data size <= n on a schedule of every size up to `every_up_to`, then each
    growth of the data by `growth`."""
    if n <= every_up_to:
        return n
    size = float(every_up_to)
    while round(size * (1 + growth)) <= n:
        size = round(size * (1 + growth))
    return int(size)


def hyperparameters(model: SingleTaskGP) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def load_hyperparameters(model: SingleTaskGP, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(state[name])
    model.eval()
