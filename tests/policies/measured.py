"""What the policies' tests tell a policy: a condition, its values and their variances."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measured:
    condition: dict
    values: dict
    variances: dict
    measurement: dict = field(default_factory=dict)
