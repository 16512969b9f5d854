"""Ternary phase diagrams from the lower convex hull of the phases' free energies.

Each phase has a free-energy surface over the simplex; the common-tangent construction (the
lower convex hull of all surfaces) gives the equilibrium. Every hull facet is a triangle, so at
most three phases coexist (the Gibbs phase rule at fixed T and p); the barycentric weights of a
composition in its facet are the lever-rule phase amounts.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import ConvexHull

from simulators.composition import compositions_array


@dataclass(frozen=True)
class PhaseWell:
    """A phase whose free energy is a paraboloid well: G = depth + stiffness * |x - centre|^2 (eV/atom).

    A stiff well is a line compound; a soft one a wide solid solution.
    """

    name: str
    centre: tuple[float, ...]
    depth_ev: float
    stiffness_ev: float

    def free_energy(self, x: np.ndarray) -> np.ndarray:
        return self.depth_ev + self.stiffness_ev * np.sum((x - np.array(self.centre)) ** 2, axis=1)


@dataclass(frozen=True)
class PhaseEquilibrium:
    """Phase amounts (lever rule) and the composition of each phase present, for each queried row."""

    fractions: np.ndarray  # (n, n_phases), rows sum to 1
    phase_compositions: np.ndarray  # (n, n_phases, n_elements); NaN where the phase is absent


@dataclass
class TernaryPhaseDiagram:
    phases: Sequence[PhaseWell]
    grid_step: float = 0.01
    _vertices: np.ndarray = field(init=False, repr=False)
    _vertex_phase: np.ndarray = field(init=False, repr=False)
    _facets: np.ndarray = field(init=False, repr=False)
    _planes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = round(1 / self.grid_step)
        grid = np.array([(i, j, n - i - j) for i in range(n + 1) for j in range(n + 1 - i)]) / n
        points, owner = [], []
        for index, phase in enumerate(self.phases):
            points.append(np.column_stack([grid[:, :2], phase.free_energy(grid)]))
            owner.append(np.full(len(grid), index))
        lifted = np.vstack(points)
        hull = ConvexHull(lifted)
        lower = hull.equations[:, 2] < -1e-6  # drop the vertical walls over the simplex edges
        self._vertices = lifted[:, :2]
        self._vertex_phase = np.concatenate(owner)
        self._facets = hull.simplices[lower]
        # plane of each lower facet as G = a*x1 + b*x2 + c
        eq = hull.equations[lower]
        self._planes = np.column_stack([-eq[:, 0] / eq[:, 2], -eq[:, 1] / eq[:, 2], -eq[:, 3] / eq[:, 2]])

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.phases]

    def hull_energy(self, compositions: np.ndarray) -> np.ndarray:
        x = compositions_array(compositions, 3)
        return (x[:, :2] @ self._planes[:, :2].T + self._planes[:, 2]).max(axis=1)

    def equilibrium(self, compositions: np.ndarray, chunk: int = 2048) -> PhaseEquilibrium:
        x = compositions_array(compositions, 3)
        n_phases = len(self.phases)
        fractions = np.zeros((len(x), n_phases))
        amounts = np.zeros((len(x), n_phases, 3))  # sum of weight * vertex composition, per phase
        for start in range(0, len(x), chunk):
            block = x[start : start + chunk]
            heights = block[:, :2] @ self._planes[:, :2].T + self._planes[:, 2]
            facet = self._containing_facet(block[:, :2], heights)
            corners = self._vertices[self._facets[facet]]  # (m, 3 vertices, 2)
            weights = _barycentric(block[:, :2], corners)  # the lever rule
            owners = self._vertex_phase[self._facets[facet]]  # (m, 3)
            points = np.concatenate([corners, 1 - corners.sum(axis=2, keepdims=True)], axis=2)
            rows = np.repeat(np.arange(start, start + len(block)), 3)
            np.add.at(fractions, (rows, owners.ravel()), weights.ravel())
            np.add.at(amounts, (rows, owners.ravel()), (weights[..., None] * points).reshape(-1, 3))
        present = fractions > 1e-9
        fractions = np.where(present, fractions, 0.0)
        fractions /= fractions.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            phase_x = np.where(present[..., None], amounts / fractions[..., None], np.nan)
        return PhaseEquilibrium(fractions=fractions, phase_compositions=phase_x)

    def _containing_facet(self, xy: np.ndarray, heights: np.ndarray, candidates: int = 24) -> np.ndarray:
        """The facet whose triangle holds each point, among the few whose planes are highest there.

        The highest plane alone is not enough: qhull merges nearly coplanar facets in two-phase
        regions (ruled surfaces), so their shared plane may overtop the true one by ~1e-5 eV.
        """
        k = min(candidates, heights.shape[1])
        top = np.argpartition(-heights, k - 1, axis=1)[:, :k]  # (m, k)
        corners = self._vertices[self._facets[top]]  # (m, k, 3, 2)
        m = len(xy)
        raw = _barycentric(np.repeat(xy, k, axis=0), corners.reshape(m * k, 3, 2), clip=False).reshape(
            m, k, 3
        )
        best = np.argmax(raw.min(axis=2), axis=1)
        return top[np.arange(m), best]


def _barycentric(points: np.ndarray, triangles: np.ndarray, clip: bool = True) -> np.ndarray:
    """Barycentric weights of 2-D points in their triangles (clipped to the triangle by default)."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    v0, v1, v2 = b - a, c - a, points - a
    d00 = np.sum(v0 * v0, axis=1)
    d01 = np.sum(v0 * v1, axis=1)
    d11 = np.sum(v1 * v1, axis=1)
    d20 = np.sum(v2 * v0, axis=1)
    d21 = np.sum(v2 * v1, axis=1)
    denominator = d00 * d11 - d01 * d01
    safe = np.where(np.abs(denominator) > 1e-18, denominator, 1.0)
    v = (d11 * d20 - d01 * d21) / safe
    w = (d00 * d21 - d01 * d20) / safe
    weights = np.column_stack([1 - v - w, v, w])
    if not clip:
        return weights
    weights = np.clip(weights, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)
