"""Design spaces: the composition simplex with per-element bounds, plus continuous process
parameters (substrate temperature, gun power, ...), in the coordinates models use.

A point is a row of the element fractions followed by the process values (`names` order); the
models see the free coordinates: the first d-1 fractions, then the process values."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linprog

SIMPLEX_TOLERANCE = 1e-6


class DesignSpaceError(ValueError):
    """A design space that cannot hold any condition, or a condition outside it."""


@dataclass(frozen=True)
class LinearConstraint:
    """sum_e coefficients[e] * x_e <= upper: an expert's rule, e.g. Ga + Pd <= 0.5 (unstable beyond)."""

    coefficients: Mapping[str, float]
    upper: float

    def describe(self) -> str:
        terms = " + ".join(f"{c:g}*{e}" for e, c in self.coefficients.items())
        return f"{terms} <= {self.upper:g}"


@dataclass(frozen=True)
class ProcessParameter:
    """A continuous setting of how a library is made, within [lower, upper] (its own units)."""

    name: str
    lower: float
    upper: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lower) and np.isfinite(self.upper) and self.lower < self.upper):
            raise DesignSpaceError(
                f"process parameter {self.name!r} has bounds [{self.lower}, {self.upper}]; need lower < upper"
            )


@dataclass(frozen=True)
class DesignSpace:
    """Atomic fractions of `elements` that sum to 1, each within its [lower, upper] bounds.

    Models see the first d-1 fractions ("free coordinates"); the last is 1 minus their sum,
    which turns the equality constraint into two linear inequalities (faster to optimise).
    """

    elements: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    linear_constraints: tuple[LinearConstraint, ...] = ()
    process: tuple[ProcessParameter, ...] = ()

    def __post_init__(self) -> None:
        d = len(self.elements)
        clashes = sorted({p.name for p in self.process} & set(self.elements))
        if clashes or len({p.name for p in self.process}) != len(self.process):
            raise DesignSpaceError(f"process parameter names repeat or clash with elements: {self.names}")
        if d < 2:
            raise DesignSpaceError(f"a composition needs at least 2 elements, got {list(self.elements)}")
        if len(set(self.elements)) != d:
            raise DesignSpaceError(f"elements repeat: {list(self.elements)}")
        if len(self.lower) != d or len(self.upper) != d:
            raise DesignSpaceError("give one lower and one upper bound per element")
        for element, lo, hi in zip(self.elements, self.lower, self.upper, strict=True):
            if not (0.0 <= lo <= hi <= 1.0):
                raise DesignSpaceError(f"bounds of {element} are [{lo}, {hi}]; need 0 <= lower <= upper <= 1")
        if sum(self.lower) > 1.0 + SIMPLEX_TOLERANCE:
            raise DesignSpaceError(
                f"lower bounds sum to {sum(self.lower):.4g} > 1: no composition fits "
                f"{dict(zip(self.elements, self.lower, strict=True))}"
            )
        if sum(self.upper) < 1.0 - SIMPLEX_TOLERANCE:
            raise DesignSpaceError(
                f"upper bounds sum to {sum(self.upper):.4g} < 1: no composition fits "
                f"{dict(zip(self.elements, self.upper, strict=True))}"
            )

        for constraint in self.linear_constraints:
            unknown = sorted(set(constraint.coefficients) - set(self.elements))
            if unknown:
                raise DesignSpaceError(
                    f"constraint {constraint.describe()} names {unknown}; elements are {list(self.elements)}"
                )
        if self.linear_constraints and not self._feasible():
            rules = "; ".join(c.describe() for c in self.linear_constraints)
            raise DesignSpaceError(f"no composition within the bounds satisfies the constraints: {rules}")

    def _feasible(self) -> bool:
        """Is there any composition meeting bounds, simplex and constraints? (a linear programme)"""
        a_ub = [[c.coefficients.get(e, 0.0) for e in self.elements] for c in self.linear_constraints]
        b_ub = [c.upper for c in self.linear_constraints]
        result = linprog(
            np.zeros(len(self.elements)),
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=[np.ones(len(self.elements))],
            b_eq=[1.0],
            bounds=list(zip(self.lower, self.upper, strict=True)),
        )
        return bool(result.status == 0)

    @classmethod
    def from_bounds(
        cls,
        bounds: Mapping[str, Sequence[float]],
        linear_constraints: Sequence[LinearConstraint] = (),
        process: Mapping[str, Sequence[float]] | None = None,
    ) -> "DesignSpace":
        return cls(
            elements=tuple(bounds),
            lower=tuple(float(b[0]) for b in bounds.values()),
            upper=tuple(float(b[1]) for b in bounds.values()),
            linear_constraints=tuple(linear_constraints),
            process=tuple(ProcessParameter(k, float(v[0]), float(v[1])) for k, v in (process or {}).items()),
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The columns of a point: the elements, then the process parameters."""
        return self.elements + tuple(p.name for p in self.process)

    @property
    def composition_dim(self) -> int:
        """Free coordinates of the composition (elements minus one)."""
        return len(self.elements) - 1

    @property
    def dim(self) -> int:
        """Number of free coordinates (elements minus one, plus the process parameters)."""
        return self.composition_dim + len(self.process)

    def _process_bounds(self) -> np.ndarray:
        return np.array([[p.lower for p in self.process], [p.upper for p in self.process]]).reshape(2, -1)

    def effective_bounds(self) -> np.ndarray:
        """(2, d) bounds tightened by the simplex: lo_i >= 1 - sum(hi_others), hi_i <= 1 - sum(lo_others)."""
        lo, hi = np.array(self.lower), np.array(self.upper)
        tight_lo = np.maximum(lo, 1.0 - (hi.sum() - hi))
        tight_hi = np.minimum(hi, 1.0 - (lo.sum() - lo))
        return np.stack([tight_lo, tight_hi])

    def free_bounds(self) -> torch.Tensor:
        """(2, dim) box of the free coordinates, float64."""
        box = np.hstack([self.effective_bounds()[:, :-1], self._process_bounds()])
        return torch.tensor(box, dtype=torch.float64)

    def inequality_constraints(self) -> list[tuple[torch.Tensor, torch.Tensor, float]]:
        """BoTorch constraints (sum coef*z >= rhs) keeping the last fraction within its bounds."""
        lo_last, hi_last = self.effective_bounds()[:, -1]
        idx = torch.arange(self.composition_dim)
        ones = torch.ones(self.composition_dim, dtype=torch.float64)
        constraints = [(idx, -ones, float(lo_last) - 1.0), (idx, ones, 1.0 - float(hi_last))]
        last = self.elements[-1]
        for rule in self.linear_constraints:
            # sum_e c_e x_e <= u with x_last = 1 - sum z:  sum (c_last - c_e) z_e >= c_last - u
            c_last = rule.coefficients.get(last, 0.0)
            coefficients = torch.tensor(
                [c_last - rule.coefficients.get(e, 0.0) for e in self.elements[:-1]], dtype=torch.float64
            )
            constraints.append((idx, coefficients, c_last - rule.upper))
        return constraints

    def _points(self, points: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(points, dtype=float))
        if x.shape[-1] != len(self.names):
            raise DesignSpaceError(f"points have {x.shape[-1]} columns; this space has {list(self.names)}")
        return x

    def to_free(self, points: np.ndarray) -> np.ndarray:
        x = self._points(points)
        return np.delete(x, self.composition_dim, axis=1)

    def from_free(self, free: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(np.asarray(free, dtype=float))
        k = self.composition_dim
        return np.column_stack([z[:, :k], 1.0 - z[:, :k].sum(axis=1), z[:, k:]])

    def compositions(self, points: np.ndarray) -> np.ndarray:
        """The element fractions of points (dropping the process values)."""
        return self._points(points)[:, : len(self.elements)]

    def contains(self, points: np.ndarray, tol: float = SIMPLEX_TOLERANCE) -> np.ndarray:
        """Which rows are on the simplex, within bounds and constraints (and process bounds)."""
        full = self._points(points)
        x = full[:, : len(self.elements)]
        lo, hi = self._process_bounds()
        inside = (
            np.all(full[:, len(self.elements) :] >= lo - tol * np.maximum(1, np.abs(lo)), axis=1)
            & np.all(full[:, len(self.elements) :] <= hi + tol * np.maximum(1, np.abs(hi)), axis=1)
            & (np.abs(x.sum(axis=1) - 1.0) <= tol)
            & np.all(x >= np.array(self.lower) - tol, axis=1)
            & np.all(x <= np.array(self.upper) + tol, axis=1)
        )
        for rule in self.linear_constraints:
            weights = np.array([rule.coefficients.get(e, 0.0) for e in self.elements])
            inside &= x @ weights <= rule.upper + tol
        return inside

    def as_dict(self, point: Sequence[float]) -> dict[str, float]:
        return {e: float(v) for e, v in zip(self.names, point, strict=True)}

    def as_point(self, condition: Mapping[str, float]) -> np.ndarray:
        """A condition (name -> value) as a row in `names` order."""
        missing = [n for n in self.names if n not in condition]
        if missing:
            raise DesignSpaceError(
                f"condition {dict(condition)} lacks {missing}; the space has {list(self.names)}"
            )
        return np.array([float(condition[n]) for n in self.names])

    def project(self, points: np.ndarray) -> np.ndarray:
        """Clip rounding error so rows lie exactly on the simplex within bounds."""
        full = self._points(points)
        d = len(self.elements)
        x = np.clip(full[:, :d], self.lower, self.upper)
        x[:, -1] = np.clip(1.0 - x[:, :-1].sum(axis=1), self.lower[-1], self.upper[-1])
        lo, hi = self._process_bounds()
        return np.column_stack([x, np.clip(full[:, d:], lo, hi)]) + 0.0  # no negative zeros

    def uniform_from_cube(self, u: np.ndarray) -> np.ndarray:
        """Map points of the unit cube [0,1]^dim to the sub-simplex above the lower bounds (and the
        process box).

        Sorted-spacings map (uniform cube -> uniform simplex), then scaled into
        {x >= lower, sum x = 1}. Rows that break an upper bound are left for the caller to drop.
        """
        u = np.atleast_2d(u)
        k = self.composition_dim
        edges = np.sort(u[:, :k], axis=1)
        spacings = np.diff(np.column_stack([np.zeros(len(u)), edges, np.ones(len(u))]), axis=1)
        lo = np.array(self.lower)
        p_lo, p_hi = self._process_bounds()
        return np.column_stack([lo + (1.0 - lo.sum()) * spacings, p_lo + (p_hi - p_lo) * u[:, k:]])
