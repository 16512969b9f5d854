"""A composition-spread world: a ternary phase diagram, crystal phases, property landscapes,
counting detectors, a diffractometer, an XAFS beamline and a sputter system, all seeded."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from simulators.composition import composition_array, compositions_array
from simulators.deposition import Library, SpotLayout, SputterGun, deposit_library
from simulators.errors import WorldInputError
from simulators.pareto import hypervolume, pareto_mask
from simulators.phase_diagram import PhaseEquilibrium, PhaseWell, TernaryPhaseDiagram
from simulators.world import CountingReadout, Quantity
from simulators.xafs import AbsorberSite, XafsBeamline, XafsSpectrum, absorbance, count_spectrum
from simulators.xrd import CrystalPhase, Diffractometer, XrdPattern, count_pattern, expected_rate, phase_rate

NOMINAL_THICKNESS_NM = 100.0
PropertyModel = Callable[[PhaseEquilibrium, Sequence[CrystalPhase]], np.ndarray]
ValenceModel = Callable[[str, np.ndarray], np.ndarray]  # phase name, phase compositions -> valences


@dataclass(frozen=True)
class CountingChannel:
    """How a quantity is counted: counts per unit per second at 100 nm, background, thickness scaling."""

    counts_per_unit_s: float
    background_counts_per_s: float
    thickness_exponent: float = 1.0


@dataclass
class CompositionSpreadWorld:
    name: str
    elements: tuple[str, ...]
    quantities: Mapping[str, Quantity]
    wells: Sequence[PhaseWell]
    crystal_phases: Sequence[CrystalPhase]
    properties: Mapping[str, PropertyModel]
    channels: Mapping[str, CountingChannel]
    guns: Sequence[SputterGun]
    reference_point: Mapping[str, float]
    stated_max_hypervolume: float
    valence: ValenceModel
    shell_distance_a: Callable[[str, float], float]  # phase name, lattice a -> first-shell distance
    anions: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # phase -> anion per cation
    seed: int = 0
    diffractometer: Diffractometer = field(default_factory=Diffractometer)
    beamline: XafsBeamline = field(default_factory=XafsBeamline)
    grid_step: float = 0.01

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.phase_diagram = TernaryPhaseDiagram(self.wells)
        names = [w.name for w in self.wells]
        if names != [p.name for p in self.crystal_phases]:
            raise ValueError(f"wells {names} and crystal phases must name the same phases in order")

    # -- ground truth ----------------------------------------------------------------------
    @property
    def phase_names(self) -> list[str]:
        return [p.name for p in self.crystal_phases]

    def equilibrium(self, compositions: np.ndarray) -> PhaseEquilibrium:
        return self.phase_diagram.equilibrium(compositions_array(compositions, len(self.elements)))

    def truth(self, compositions: np.ndarray) -> dict[str, np.ndarray]:
        eq = self.equilibrium(compositions)
        return {name: model(eq, self.crystal_phases) for name, model in self.properties.items()}

    def dense_grid(self, step: float | None = None) -> np.ndarray:
        n = round(1 / (step or self.grid_step))
        grid = np.array([(i, j, n - i - j) for i in range(n + 1) for j in range(n + 1 - i)]) / n
        return grid

    def objective_matrix(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Values as columns in quantity order, signed so that larger is better."""
        return np.column_stack(
            [(1 if q.goal == "maximize" else -1) * np.asarray(values[n]) for n, q in self.quantities.items()]
        )

    def signed_reference(self) -> np.ndarray:
        return np.array(
            [
                (1 if q.goal == "maximize" else -1) * self.reference_point[n]
                for n, q in self.quantities.items()
            ]
        )

    def pareto_front(self, step: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Compositions and values of the non-dominated points of the dense grid."""
        grid = self.dense_grid(step)
        values = self.truth(grid)
        mask = pareto_mask(self.objective_matrix(values))
        return grid[mask], {k: v[mask] for k, v in values.items()}

    def max_hypervolume(self, step: float | None = None) -> float:
        """Hypervolume of the dense grid's truth above the reference point: the best any campaign can do."""
        _, front = self.pareto_front(step)
        return hypervolume(self.objective_matrix(front), self.signed_reference())

    def hypervolume(self, values: Mapping[str, np.ndarray]) -> float:
        """Hypervolume of measured (or predicted) values above this world's reference point."""
        return hypervolume(self.objective_matrix(values), self.signed_reference())

    # -- measurements ----------------------------------------------------------------------
    def measure_counts(
        self,
        composition: Mapping[str, float],
        quantity: str,
        count_time_s: float,
        thickness_nm: float = NOMINAL_THICKNESS_NM,
    ) -> CountingReadout:
        if quantity not in self.quantities:
            raise WorldInputError(
                f"unknown quantity {quantity!r}; {self.name} measures {sorted(self.quantities)}"
            )
        _check_count_time(count_time_s)
        _check_thickness(thickness_nm)
        x = composition_array(composition, self.elements)
        value = float(self.truth(x[None, :])[quantity][0])
        channel = self.channels[quantity]
        gain = channel.counts_per_unit_s * (thickness_nm / NOMINAL_THICKNESS_NM) ** channel.thickness_exponent
        background = channel.background_counts_per_s * count_time_s
        expected = max(value, 0.0) * gain * count_time_s + background
        return CountingReadout(
            counts=int(self.rng.poisson(expected)),
            background_counts=background,
            count_time_s=float(count_time_s),
            counts_per_unit_s=gain,
        )

    def xrd_rate(
        self, composition: Mapping[str, float], thickness_nm: float = NOMINAL_THICKNESS_NM
    ) -> np.ndarray:
        """Noise-free counts per second of the film's pattern (background included)."""
        x = composition_array(composition, self.elements)
        eq = self.equilibrium(x[None, :])
        phase_x = [
            None if f <= 0 else dict(zip(self.elements, eq.phase_compositions[0, i], strict=True))
            for i, f in enumerate(eq.fractions[0])
        ]
        return expected_rate(self.diffractometer, self.crystal_phases, eq.fractions[0], phase_x, thickness_nm)

    def measure_xrd(
        self,
        composition: Mapping[str, float],
        count_time_s: float,
        thickness_nm: float = NOMINAL_THICKNESS_NM,
    ) -> XrdPattern:
        _check_count_time(count_time_s)
        _check_thickness(thickness_nm)
        rate = self.xrd_rate(composition, thickness_nm)
        return XrdPattern(
            two_theta_deg=self.diffractometer.two_theta_deg,
            counts=count_pattern(rate, count_time_s, self.rng),
            count_time_s=float(count_time_s),
            wavelength_a=self.diffractometer.wavelength_a,
        )

    def reference_patterns(self) -> dict[str, np.ndarray]:
        """Each phase's pattern at the centre of its stability (100 nm, no background), for reducers."""
        out = {}
        for well, phase in zip(self.wells, self.crystal_phases, strict=True):
            out[phase.name] = phase_rate(
                self.diffractometer, phase, dict(zip(self.elements, well.centre, strict=True))
            )
        return out

    def absorber_sites(self, composition: Mapping[str, float], element: str) -> list[AbsorberSite]:
        """The absorber's environments: one per phase present, weighted by how much of it is there."""
        x = composition_array(composition, self.elements)
        index = self.elements.index(element)
        eq = self.equilibrium(x[None, :])
        sites = []
        for i, phase in enumerate(self.crystal_phases):
            fraction = eq.fractions[0, i]
            if fraction <= 0:
                continue
            phase_x = eq.phase_compositions[0, i]
            weight = fraction * phase_x[index]
            if weight <= 0:
                continue
            valence = float(self.valence(phase.name, phase_x[None, :])[0, index])
            lattice = phase.lattice_a(dict(zip(self.elements, phase_x, strict=True)))
            sites.append(AbsorberSite(weight, valence, self.shell_distance_a(phase.name, lattice)))
        return sites

    def mean_valence(self, composition: Mapping[str, float], element: str) -> float:
        sites = self.absorber_sites(composition, element)
        return float(sum(s.weight * s.valence for s in sites) / sum(s.weight for s in sites))

    def xafs_mu(self, composition: Mapping[str, float], element: str) -> tuple[np.ndarray, np.ndarray]:
        """Noise-free energies (eV) and mu*x of the film at `element`'s K edge."""
        if element not in self.elements:
            raise WorldInputError(f"unknown absorber {element!r}; this world has {list(self.elements)}")
        x = composition_array(composition, self.elements)
        if x[self.elements.index(element)] <= 0:
            raise WorldInputError(f"composition {dict(composition)} has no {element} to absorb")
        sample = {e: float(v) for e, v in zip(self.elements, x, strict=True)}
        eq = self.equilibrium(x[None, :])
        for i, phase in enumerate(self.crystal_phases):
            for anion, per_cation in self.anions.get(phase.name, {}).items():
                sample[anion] = sample.get(anion, 0.0) + eq.fractions[0, i] * per_cation
        return absorbance(self.beamline, element, sample, self.absorber_sites(composition, element))

    def measure_xafs(
        self, composition: Mapping[str, float], element: str, count_time_s: float
    ) -> XafsSpectrum:
        _check_count_time(count_time_s)
        energy, mu_x = self.xafs_mu(composition, element)
        return count_spectrum(self.beamline, energy, mu_x, count_time_s, element, self.rng)

    # -- synthesis ---------------------------------------------------------------------------
    def deposit(
        self,
        powers_w: Mapping[str, float],
        duration_s: float = 3600.0,
        layout: SpotLayout | None = None,
        composition_error: float = 0.01,
    ) -> Library:
        return deposit_library(
            self.guns, powers_w, duration_s, layout or SpotLayout.square_grid(), self.rng, composition_error
        )


def _check_count_time(count_time_s: float) -> None:
    if not np.isfinite(count_time_s) or count_time_s <= 0:
        raise WorldInputError(f"count_time_s must be a positive number, got {count_time_s!r}")


def _check_thickness(thickness_nm: float) -> None:
    if not np.isfinite(thickness_nm) or thickness_nm <= 0:
        raise WorldInputError(f"thickness_nm must be a positive number, got {thickness_nm!r}")


def phase_sum(eq: PhaseEquilibrium, per_phase: Sequence[Callable[[np.ndarray], np.ndarray]]) -> np.ndarray:
    """Rule of mixtures: sum over phases of fraction * property(phase composition)."""
    total = np.zeros(len(eq.fractions))
    for i, model in enumerate(per_phase):
        present = eq.fractions[:, i] > 0
        if np.any(present):
            total[present] += eq.fractions[present, i] * model(eq.phase_compositions[present, i])
    return total
