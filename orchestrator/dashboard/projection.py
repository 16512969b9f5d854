"""Where a campaign of any number of elements and process parameters can be drawn: a pseudo-ternary
plane through a chosen spot, and the straight line between two conditions.

A plane has three corners, each an element or a group of elements whose fractions are summed.
Elements in no corner and every process parameter are held at the spot, and the elements of a
group keep the spot's proportions, so each point of the plane is one whole condition the model can
be asked about. A ternary campaign's plane is its whole triangle, whatever the spot."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from orchestrator import control
from orchestrator.control import ControlError
from orchestrator.observation import Observation
from policies import DesignSpace

SCALED_NEAR = 0.1  # a measured condition this close to a line (scaled coordinates) is shown on it


class ViewRequestError(ValueError):
    """A corner, spot or condition the dashboard was asked for that does not fit the campaign."""


Corners = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def default_corners(space: DesignSpace) -> Corners:
    """The three elements of a ternary; otherwise the first two and the rest summed."""
    elements = space.elements
    if len(elements) == 2:
        raise ViewRequestError(f"a plane needs three corners; this campaign has 2 elements {list(elements)}")
    return (elements[0],), (elements[1],), tuple(elements[2:])


def parse_corners(space: DesignSpace, corners: Sequence[str] | None) -> Corners:
    """Three corners, each 'Fe' or 'Cr,Ni'; no element in two of them."""
    if not corners:
        return default_corners(space)
    if len(corners) != 3:
        raise ViewRequestError(
            f"give three corners (each an element or elements joined by commas), got {len(corners)}: "
            f"{list(corners)}"
        )
    groups = tuple(tuple(e.strip() for e in corner.split(",") if e.strip()) for corner in corners)
    named = [e for group in groups for e in group]
    unknown = sorted(set(named) - set(space.elements))
    if unknown or any(not group for group in groups):
        raise ViewRequestError(
            f"corners {list(corners)}: {unknown or 'an empty corner'} is not an element of the campaign; "
            f"its elements are {list(space.elements)}"
        )
    repeated = sorted({e for e in named if named.count(e) > 1})
    if repeated:
        raise ViewRequestError(f"corners {list(corners)}: {repeated} named in more than one corner")
    return groups  # type: ignore[return-value]


def centre(space: DesignSpace) -> dict[str, float]:
    """A spot inside the bounds: every element the same share of the way from its lower bound to
    its upper, every process parameter at the middle of its range."""
    lower, upper = np.array(space.lower), np.array(space.upper)
    share = (1.0 - lower.sum()) / max(upper.sum() - lower.sum(), 1e-12)
    fractions = lower + min(max(share, 0.0), 1.0) * (upper - lower)
    process = [(p.lower + p.upper) / 2 for p in space.process]
    return space.as_dict([*fractions, *process])


def parse_condition(
    space: DesignSpace, text: str, observations: Sequence[Observation], what: str
) -> dict[str, float]:
    """A measured proposal's id, or a condition as `junkan control inject --condition` takes it
    ('Co=0.25,Cr=0.25,Fe=0.25,Ni=0.25,T=450'), inside the design space."""
    example = ",".join(f"{n}={v:.3g}" for n, v in centre(space).items())
    if "=" not in text:
        for observation in observations:
            if observation.proposal_id == text.strip():
                return {n: float(observation.condition[n]) for n in space.names}
        raise ViewRequestError(
            f"{what} {text!r} is neither a measured proposal id (at this step) nor a condition such as "
            f"{example!r}"
        )
    try:
        condition = control.parse_condition(text, {n: None for n in space.names})
    except ControlError as exc:
        raise ViewRequestError(f"{what} {text!r}: {exc}") from None
    outside = control.outside_space(space, condition)
    if outside:
        raise ViewRequestError(f"{what}: {outside}")
    return condition


@dataclass(frozen=True)
class Plane:
    """A pseudo-ternary plane through `spot` (a whole condition)."""

    space: DesignSpace
    corners: Corners
    spot: Mapping[str, float]

    @property
    def labels(self) -> list[str]:
        return ["+".join(group) for group in self.corners]

    @property
    def held(self) -> dict[str, float]:
        """What the plane keeps at the spot: elements in no corner, and process parameters."""
        grouped = {e for group in self.corners for e in group}
        return {n: float(self.spot[n]) for n in self.space.names if n not in grouped}

    def _weights(self, group: tuple[str, ...]) -> np.ndarray:
        at = np.array([max(float(self.spot[e]), 0.0) for e in group])
        return at / at.sum() if at.sum() > 0 else np.full(len(group), 1.0 / len(group))

    def grid(self, step: float) -> tuple[np.ndarray, np.ndarray]:
        """The plane's lattice points inside the space: whole conditions (rows in `space.names`
        order) and their corner coordinates (each row summing to 1)."""
        n = round(1 / step)
        i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        keep = i + j <= n
        shares = np.column_stack([i[keep], j[keep], n - i[keep] - j[keep]]) / n
        held_fraction = sum(v for k, v in self.held.items() if k in self.space.elements)
        points = np.zeros((len(shares), len(self.space.names)))
        index = {name: col for col, name in enumerate(self.space.names)}
        for corner, group in enumerate(self.corners):
            for element, weight in zip(group, self._weights(group), strict=True):
                points[:, index[element]] = (1.0 - held_fraction) * shares[:, corner] * weight
        for name, value in self.held.items():
            points[:, index[name]] = value
        inside = self.space.contains(points, tol=1e-9)
        return points[inside], shares[inside]

    def off_plane(self, points: np.ndarray) -> np.ndarray:
        """How far conditions are from the plane in what it holds (largest difference, scaled)."""
        names = list(self.space.names)
        held = [names.index(n) for n in self.held]
        if not held:
            return np.zeros(len(np.atleast_2d(points)))
        spot = scaled(self.space, self.space.as_point(self.spot))[0]
        return np.abs(scaled(self.space, points)[:, held] - spot[held]).max(axis=1)

    def coordinates(self, points: np.ndarray) -> np.ndarray:
        """Corner coordinates (summed fractions, normalised to 1) of any conditions; NaN for a
        condition with none of the corners' elements."""
        index = {name: col for col, name in enumerate(self.space.names)}
        sums = np.column_stack(
            [np.atleast_2d(points)[:, [index[e] for e in group]].sum(axis=1) for group in self.corners]
        )
        total = sums.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, sums / total, np.nan)


def scaled(space: DesignSpace, points: np.ndarray) -> np.ndarray:
    """Fractions as they are, process parameters over their range: one measure of distance."""
    x = np.atleast_2d(np.asarray(points, dtype=float)).copy()
    d = len(space.elements)
    for k, p in enumerate(space.process):
        x[:, d + k] = (x[:, d + k] - p.lower) / (p.upper - p.lower)
    return x


def line(start: np.ndarray, end: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n evenly spaced conditions from start to end (a straight line stays in a convex space) and
    their positions t in [0, 1]."""
    t = np.linspace(0.0, 1.0, n)
    return start + t[:, None] * (end - start), t


def near_line(
    space: DesignSpace, start: np.ndarray, end: np.ndarray, points: np.ndarray, radius: float = SCALED_NEAR
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which points lie within `radius` (scaled coordinates) of the segment: their indices, their
    position t along it and their distance from it."""
    a, b, x = scaled(space, start)[0], scaled(space, end)[0], scaled(space, points)
    direction = b - a
    length2 = float(direction @ direction)
    t = np.clip((x - a) @ direction / length2, 0.0, 1.0) if length2 > 0 else np.zeros(len(x))
    distance = np.linalg.norm(x - (a + t[:, None] * direction), axis=1)
    close = np.flatnonzero(distance <= radius)
    return close, t[close], distance[close]
