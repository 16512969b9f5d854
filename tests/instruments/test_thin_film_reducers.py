"""Reducers on simulated measurements: known phase fractions, peak positions, edges and valences,
and variances that match the scatter of repeated measurements."""

import numpy as np
import pytest
import xraydb
from ophyd_async.plan_stubs import ensure_connected

from instruments.plans.thin_film import deposit_library, measure_xafs, measure_xrd, xafs_scan_energies
from instruments.reduction.reducer import ReductionError
from instruments.reduction.xafs import XafsReducer
from instruments.reduction.xrd import XrdPeakReducer, XrdPhaseFractionReducer
from instruments.simulated.thin_film import simulated_thin_film_devices
from simulators.xafs import AbsorberSite, normalised_mu


def run(run_engine, plan):
    documents = []
    run_engine(plan, lambda name, doc: documents.append((name, doc)))
    return documents


@pytest.fixture(scope="module")
def alloy(request):
    from bluesky import RunEngine

    run_engine = RunEngine({}, call_returns_result=True)
    devices = simulated_thin_film_devices("fe-ga-pd", seed=5)
    run_engine(ensure_connected(*devices.all))
    run(run_engine, deposit_library(devices.sputter, {"Fe": 200.0, "Ga": 90.0, "Pd": 70.0}, 1200.0))
    return run_engine, devices


@pytest.fixture(scope="module")
def oxide():
    from bluesky import RunEngine

    run_engine = RunEngine({}, call_returns_result=True)
    devices = simulated_thin_film_devices("fe-co-ni-oxide", seed=6)
    run_engine(ensure_connected(*devices.all))
    run(run_engine, deposit_library(devices.sputter, {"Fe": 200.0, "Co": 90.0, "Ni": 150.0}, 3600.0))
    return run_engine, devices


def phase_reducer(world):
    return XrdPhaseFractionReducer("xrd", world.reference_patterns(), world.diffractometer.two_theta_deg)


def test_phase_fractions_are_recovered_across_a_library(alloy):
    run_engine, devices = alloy
    world, library = devices.lab.world, devices.lab.libraries["L001"]
    truth = world.equilibrium(library.compositions).fractions
    reducer = phase_reducer(world)
    for i in range(0, 177, 22):
        reduction = reducer.reduce(
            run(run_engine, measure_xrd(devices.stage, devices.xrd, tuple(library.positions_mm[i]), 1.0))
        )
        found = np.array([reduction.values[f"fraction_{n}"] for n in world.phase_names])
        np.testing.assert_allclose(found, truth[i], atol=0.05)  # stated tolerance: 5 % absolute
        assert found.sum() == pytest.approx(1.0)


def test_phase_fraction_variances_match_the_scatter_of_repeats(alloy):
    run_engine, devices = alloy
    world, library = devices.lab.world, devices.lab.libraries["L001"]
    reducer = phase_reducer(world)
    spot = tuple(library.positions_mm[90])
    reductions = [
        reducer.reduce(run(run_engine, measure_xrd(devices.stage, devices.xrd, spot, 0.05)))
        for _ in range(60)
    ]
    for name in world.phase_names:
        values = np.array([r.values[f"fraction_{name}"] for r in reductions])
        if values.mean() < 0.1:
            continue
        reported = np.sqrt(np.mean([r.variances[f"fraction_{name}"] for r in reductions]))
        assert values.std(ddof=1) / reported == pytest.approx(1.0, abs=0.3), name


def test_the_strongest_peak_is_where_braggs_law_puts_it_with_calibrated_errors(alloy):
    run_engine, devices = alloy
    world, library = devices.lab.world, devices.lab.libraries["L001"]
    eq = world.equilibrium(library.compositions)
    i = int(np.argmax(eq.fractions[:, 0]))  # the most nearly single-phase bcc spot
    bcc = world.crystal_phases[0]
    a = bcc.lattice_a(dict(zip(world.elements, eq.phase_compositions[i, 0], strict=True)))
    bragg_110 = np.degrees(2 * np.arcsin(world.diffractometer.wavelength_a * np.sqrt(2) / (2 * a)))
    reducer = XrdPeakReducer("xrd", window_deg=(42.0, 46.0))
    spot = tuple(library.positions_mm[i])
    reductions = [
        reducer.reduce(run(run_engine, measure_xrd(devices.stage, devices.xrd, spot, 0.2))) for _ in range(40)
    ]
    positions = np.array([r.values["peak_position_deg"] for r in reductions])
    assert positions.mean() == pytest.approx(bragg_110, abs=0.02)
    reported = np.sqrt(np.mean([r.variances["peak_position_deg"] for r in reductions]))
    assert positions.std(ddof=1) / reported == pytest.approx(1.0, abs=0.3)
    assert 0.2 < reductions[0].values["peak_fwhm_deg"] < 1.0


def xafs_reducer(world, element="Fe"):
    energy = world.beamline.energies(element)
    references = {
        v: (energy, normalised_mu(world.beamline, element, energy, [AbsorberSite(1.0, v, 2.1, 6.0)]))
        for v in (2.0, 3.0)
    }
    return XafsReducer("xafs", xraydb.xray_edge(element, "K").energy, references)


def test_edge_energy_and_oxidation_state_are_recovered_with_calibrated_errors(oxide):
    run_engine, devices = oxide
    world, library = devices.lab.world, devices.lab.libraries["L001"]
    reducer = xafs_reducer(world)
    energies = xafs_scan_energies("Fe", k_step=0.1)
    for i in (0, 90, 170):
        composition = dict(zip(world.elements, library.compositions[i], strict=True))
        valence = world.mean_valence(composition, "Fe")
        reduction = reducer.reduce(
            run(
                run_engine,
                measure_xafs(
                    devices.stage, devices.xafs, tuple(library.positions_mm[i]), "Fe", 1.0, energies
                ),
            )
        )
        assert reduction.values["oxidation_state"] == pytest.approx(valence, abs=0.05)
        expected_edge = xraydb.xray_edge("Fe", "K").energy + world.beamline.shift_ev_per_valence * valence
        assert reduction.values["edge_energy_ev"] == pytest.approx(expected_edge, abs=0.7)
    spot = tuple(library.positions_mm[90])
    reductions = [
        reducer.reduce(run(run_engine, measure_xafs(devices.stage, devices.xafs, spot, "Fe", 0.05, energies)))
        for _ in range(25)
    ]
    for key in ("edge_energy_ev", "oxidation_state"):
        values = np.array([r.values[key] for r in reductions])
        reported = np.sqrt(np.mean([r.variances[key] for r in reductions]))
        assert values.std(ddof=1) / reported == pytest.approx(1.0, abs=0.35), key


def test_reducers_name_what_a_run_lacks(alloy):
    run_engine, devices = alloy
    documents = run(
        run_engine,
        measure_xrd(devices.stage, devices.xrd, tuple(devices.lab.libraries["L001"].positions_mm[0]), 1.0),
    )
    with pytest.raises(ReductionError, match="lacks data key 'other-two_theta_deg'"):
        XrdPeakReducer("other").reduce(documents)
    with pytest.raises(ReductionError, match="a spectrum needs at least 20"):
        xafs_reducer(devices.lab.world).reduce(documents)
