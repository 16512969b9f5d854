"""A world whose detector times out on its third measurement, for fault-path tests."""

from dataclasses import dataclass

from simulators.ternary_magnet import TernaryMagnetWorld


@dataclass
class TimingOutWorld(TernaryMagnetWorld):
    fail_on_call: int = 3
    calls: int = 0

    def measure_counts(self, composition, quantity, count_time_s):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise TimeoutError("counter did not answer within 5 s")
        return super().measure_counts(composition, quantity, count_time_s)


def build(seed: int = 0) -> TimingOutWorld:
    return TimingOutWorld(seed=seed)
