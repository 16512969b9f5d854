"""Objectives as a policy sees them: a name and a direction."""

from dataclasses import dataclass
from typing import Literal

Goal = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class Objective:
    name: str
    goal: Goal = "maximize"

    @property
    def sign(self) -> float:
        """+1 to maximise, -1 to minimise: models always maximise sign * value."""
        return 1.0 if self.goal == "maximize" else -1.0
