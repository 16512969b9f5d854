"""A thin-film instrument over a simulated world: devices, objective counters, calibrations and
reference data (phase patterns, XAFS standards) taken from the world, as a lab would measure them."""

from collections.abc import Mapping, Sequence

import xraydb

from instruments.devices.thin_film import ThinFilmDevices
from instruments.reduction.xafs import XafsReducer
from instruments.reduction.xrd import XrdPhaseFractionReducer
from instruments.simulated.counter import SimulatedCounter
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab
from instruments.simulated.sputter import SimulatedSputterSystem
from instruments.simulated.wafer_stage import simulated_sample_changer, simulated_wafer_stage
from instruments.simulated.xafs_setup import SimulatedXafsSetup
from instruments.simulated.xrd_detector import SimulatedXrdDetector
from instruments.thin_film_instrument import ThinFilmInstrument, ThinFilmSettings
from simulators import CompositionSpreadWorld, load_world
from simulators.xafs import AbsorberSite, normalised_mu

XAFS_STANDARD_SHELL_A = 2.1  # a generic metal-oxygen first shell for the reference spectra


def simulated_thin_film_devices(
    world: str | CompositionSpreadWorld,
    seed: int = 0,
    fault_rates: Mapping[str, Mapping[str, float]] | None = None,
) -> ThinFilmDevices:
    """Devices over a seeded world. `fault_rates` maps 'sputter', 'xrd', 'xafs' to per-trigger rates."""
    loaded = load_world(world, seed=seed) if isinstance(world, str) else world
    if not isinstance(loaded, CompositionSpreadWorld):
        raise ValueError(f"world {world!r} has no sputter guns, diffractometer or beamline")
    lab = SimulatedLab(loaded)
    rates = dict(fault_rates or {})
    unknown = sorted(set(rates) - {"sputter", "xrd", "xafs"})
    if unknown:
        raise ValueError(f"fault rates for unknown device(s) {unknown}; valid: sputter, xrd, xafs")

    def injector(device: str, offset: int) -> FaultInjector:
        return FaultInjector(dict(rates.get(device, {})), seed=seed * 7919 + offset)

    def arrive(position: tuple[float, float]) -> None:
        lab.stage_mm = position

    return ThinFilmDevices(
        sputter=SimulatedSputterSystem(lab, injector("sputter", 1), name="sputter"),
        stage=simulated_wafer_stage(arrive, name="wafer_stage"),
        xrd=SimulatedXrdDetector(lab, injector("xrd", 2), name="xrd"),
        xafs=SimulatedXafsSetup(lab, injector("xafs", 3), name="xafs"),
        changer=simulated_sample_changer(lab.load, name="sample_changer"),
        lab=lab,
    )


def simulated_thin_film_instrument(
    world: str,
    objectives: Sequence[str],
    seed: int,
    settings: Mapping[str, object],
    xafs_reference_valences: Sequence[float] = (2.0, 3.0),
    fault_rates: Mapping[str, Mapping[str, float]] | None = None,
) -> ThinFilmInstrument:
    devices = simulated_thin_film_devices(world, seed=seed, fault_rates=fault_rates)
    lab = devices.lab
    assert isinstance(lab, SimulatedLab)
    unknown = [o for o in objectives if o not in lab.world.quantities]
    if unknown:
        raise ValueError(
            f"world {world!r} cannot measure {unknown}; it measures {sorted(lab.world.quantities)}"
        )

    def counter_for(objective: str) -> SimulatedCounter:
        name = f"counter_{objective}"

        def sample() -> tuple[dict[str, float], float]:
            spot = lab.spot_under_beam(name)
            return spot.composition, spot.thickness_nm

        return SimulatedCounter(lab.world, objective, sample, name=name)

    resolved = ThinFilmSettings(
        elements=tuple(lab.world.elements),
        atoms_per_s_per_w=lab.centre_atom_rates(),
        **settings,  # type: ignore[arg-type]
    )
    phase_reducer = XrdPhaseFractionReducer(
        devices.xrd.name, lab.world.reference_patterns(), lab.world.diffractometer.two_theta_deg
    )
    xafs_reducer = None
    if resolved.xafs_element is not None:
        element = resolved.xafs_element
        energy = lab.world.beamline.energies(element)
        standards = {
            float(v): (
                energy,
                normalised_mu(
                    lab.world.beamline,
                    element,
                    energy,
                    [AbsorberSite(1.0, float(v), XAFS_STANDARD_SHELL_A, 6.0)],
                ),
            )
            for v in xafs_reference_valences
        }
        xafs_reducer = XafsReducer(devices.xafs.name, float(xraydb.xray_edge(element, "K").energy), standards)
    units = {o: lab.world.quantities[o].units for o in objectives}
    units.update({f"fraction_{p}": "1" for p in lab.world.phase_names})
    units.update({"edge_energy_ev": "eV", "oxidation_state": "1"})
    return ThinFilmInstrument(
        devices,
        {o: counter_for(o) for o in objectives},
        resolved,
        phase_reducer=phase_reducer,
        xafs_reducer=xafs_reducer,
        feature_units=units,
    )
