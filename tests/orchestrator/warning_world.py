"""A world whose counter warns on every count, as a drifting detector's driver might: for the
test that warnings are counted into the log and /metrics instead of printed."""

import warnings

from simulators.ternary_magnet import TernaryMagnetWorld


class WarningWorld(TernaryMagnetWorld):
    def measure_counts(self, composition, quantity, count_time_s):
        warnings.warn("detector gain drifting", RuntimeWarning, stacklevel=1)
        return super().measure_counts(composition, quantity, count_time_s)


def build(seed: int = 0) -> WarningWorld:
    return WarningWorld(seed=seed)
