"""Seeded fault injection for simulated devices: rehearse what the loop does when hardware fails."""

from dataclasses import dataclass, field

import numpy as np

from instruments.faults import DeviceDisconnected, DeviceTimeout

FAULT_KINDS = ("timeout", "disconnect", "nan", "saturate")


@dataclass
class FaultInjector:
    """Per-trigger probabilities of each fault kind, drawn from one seeded generator."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rates) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault kind(s) {unknown}; valid: {list(FAULT_KINDS)}")
        for kind, rate in self.rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate of {kind!r} is {rate}; valid: 0 to 1")
        self._rng = np.random.default_rng(self.seed)

    def draw(self) -> str | None:
        """The fault this trigger suffers, if any (at most one)."""
        u = self._rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.rates.get(kind, 0.0)
            if u < edge:
                return kind
        return None

    def raise_or_corrupt(self, device: str, counts: np.ndarray, saturation: float) -> np.ndarray:
        """Raise a timeout or disconnect, or return the counts spoiled by NaN or saturation."""
        kind = self.draw()
        if kind == "timeout":
            raise DeviceTimeout(device, "no answer within its timeout")
        if kind == "disconnect":
            raise DeviceDisconnected(device, "lost its connection")
        if kind == "nan":
            spoiled = np.asarray(counts, dtype=float).copy()
            spoiled.flat[self._rng.integers(spoiled.size)] = np.nan
            return spoiled
        if kind == "saturate":
            spoiled = np.asarray(counts, dtype=float).copy()
            spoiled.flat[self._rng.integers(spoiled.size)] = saturation
            return spoiled
        return counts
