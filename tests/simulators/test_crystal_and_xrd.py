"""Diffraction physics: Bragg's law, Vegard's law, extinctions, Scherrer widths, Poisson counts."""

from dataclasses import replace

import numpy as np
import pytest
import xraydb

from simulators import load_world
from simulators.crystal import A1_FCC, A2_BCC, B1_ROCKSALT, B2, reflections, spinel
from simulators.elements import cubic_lattice_parameter_a, emission_wavelength_a
from simulators.xrd import Diffractometer, expected_rate

CU_KA1 = 12398.419843320025 / xraydb.xray_lines("Cu", "K")["Ka1"].energy


def peak_positions(two_theta, rate, min_height):
    """Local maxima refined by a parabola through the three highest points."""
    i = np.flatnonzero((rate[1:-1] > rate[:-2]) & (rate[1:-1] >= rate[2:]) & (rate[1:-1] > min_height)) + 1
    y0, y1, y2 = rate[i - 1], rate[i], rate[i + 1]
    step = two_theta[1] - two_theta[0]
    return two_theta[i] + 0.5 * step * (y0 - y2) / (y0 - 2 * y1 + y2)


def test_the_wavelength_is_xraydbs_cu_ka1():
    assert emission_wavelength_a("Cu", "Ka1") == pytest.approx(CU_KA1, rel=1e-12)


def test_vegard_end_members_come_from_atomic_volumes_and_match_measured_lattices():
    # bcc Fe is 2.8665 A and fcc Pd 3.8907 A at room temperature
    assert cubic_lattice_parameter_a("Fe", 2) == pytest.approx(2.8665, abs=0.005)
    assert cubic_lattice_parameter_a("Pd", 4) == pytest.approx(3.8907, abs=0.005)


def test_bcc_fe_110_is_at_44_67_degrees_for_cu_ka1():
    (first, *_) = reflections(A2_BCC, {"M": {"Fe": 1.0}}, 2.8665, CU_KA1, 90)
    assert first.hkl == (1, 1, 0)
    # xraydb's Cu Ka1 is 8046.3 eV (Bearden: 8047.8 eV), which moves the peak by +0.01 degrees
    assert first.two_theta_deg == pytest.approx(44.67, abs=0.015)


@pytest.mark.parametrize(
    ("structure", "occupancy", "allowed", "forbidden"),
    [
        (A2_BCC, {"M": {"Fe": 1}}, [(1, 1, 0), (2, 0, 0), (2, 1, 1)], [(1, 0, 0), (1, 1, 1), (2, 1, 0)]),
        (A1_FCC, {"M": {"Pd": 1}}, [(1, 1, 1), (2, 0, 0), (2, 2, 0)], [(1, 0, 0), (1, 1, 0), (2, 1, 0)]),
        (B2, {"A": {"Fe": 1}, "B": {"Ga": 1}}, [(1, 0, 0), (1, 1, 0), (1, 1, 1)], []),
        (
            B1_ROCKSALT,
            {"M": {"Ni": 1}, "O": {"O": 1}},
            [(1, 1, 1), (2, 0, 0), (2, 2, 0)],
            [(1, 0, 0), (2, 1, 0)],
        ),
    ],
)
def test_centring_extinguishes_and_ordering_adds_reflections(structure, occupancy, allowed, forbidden):
    found = {r.hkl for r in reflections(structure, occupancy, 3.5, CU_KA1, 150)}
    assert set(allowed) <= found
    assert not set(forbidden) & found


def test_b2_superlattice_peak_vanishes_when_the_sites_hold_the_same_mixture():
    ordered = reflections(B2, {"A": {"Fe": 1.0}, "B": {"Ga": 1.0}}, 2.9, CU_KA1, 90)
    disordered = reflections(B2, {"A": {"Fe": 0.5, "Ga": 0.5}, "B": {"Fe": 0.5, "Ga": 0.5}}, 2.9, CU_KA1, 90)
    assert (1, 0, 0) in {r.hkl for r in ordered}
    assert (1, 0, 0) not in {r.hkl for r in disordered}


def test_magnetite_311_is_the_strongest_spinel_reflection():
    peaks = reflections(spinel(), {"T": {"Fe": 1}, "Oc": {"Fe": 1}, "O": {"O": 1}}, 8.396, CU_KA1, 90)
    strongest = max(peaks, key=lambda r: r.intensity)
    assert strongest.hkl == (3, 1, 1)
    assert strongest.two_theta_deg == pytest.approx(35.45, abs=0.05)


@pytest.mark.parametrize("world_name", ["fe-ga-pd", "fe-co-ni-oxide"])
def test_every_phase_peak_obeys_braggs_law_for_its_vegard_lattice_to_0_01_degrees(world_name):
    world = load_world(world_name)
    fine = replace(world.diffractometer, two_theta_step_deg=0.002)
    grid = world.dense_grid(0.01)
    eq = world.equilibrium(grid)
    checked = 0
    for i, phase in enumerate(world.crystal_phases):
        single = np.flatnonzero(eq.fractions[:, i] > 0.999)
        assert single.size, f"{phase.name} has no single-phase region on the grid"
        composition = dict(zip(world.elements, grid[single[0]], strict=True))
        a = sum(composition[e] * phase.vegard_a[e] for e in world.elements)
        assert phase.lattice_a(composition) == pytest.approx(a)
        rate = expected_rate(fine, [phase], [1.0], [composition], 100.0, include_background=False)
        found = peak_positions(fine.two_theta_deg, rate, 0.005 * rate.max())
        strong = [
            r for r in phase.reflections(composition, fine.wavelength_a, 95) if 31 < r.two_theta_deg < 89
        ]
        top = max(p.intensity for p in strong)
        resolved = [
            r
            for r in strong
            if r.intensity > 0.05 * top
            and all(
                abs(o.two_theta_deg - r.two_theta_deg)
                > 2.5 * fine.fwhm_deg(r.two_theta_deg, phase.crystallite_nm)
                for o in strong
                if o is not r and o.intensity > 0.01 * top
            )
        ]
        for r in resolved:
            bragg = np.degrees(
                2 * np.arcsin(fine.wavelength_a * np.sqrt(sum(h * h for h in r.hkl)) / (2 * a))
            )
            nearest = found[np.argmin(np.abs(found - bragg))]
            assert nearest == pytest.approx(bragg, abs=0.01), (phase.name, r.hkl)
            checked += 1
    assert checked >= 6


def test_scherrer_broadening_follows_k_lambda_over_l_cos_theta():
    d = Diffractometer()
    theta = np.radians(22.0)
    instrument = d.fwhm_deg(44.0, 1e9)
    for size_nm in (5.0, 20.0):
        expected = np.degrees(0.9 * d.wavelength_a / (size_nm * 10 * np.cos(theta)))
        assert np.sqrt(d.fwhm_deg(44.0, size_nm) ** 2 - instrument**2) == pytest.approx(expected, rel=1e-9)
    assert d.fwhm_deg(44.0, 5.0) > d.fwhm_deg(44.0, 20.0) > instrument


def test_intensity_scales_with_thickness_and_phase_fraction():
    world = load_world("fe-ga-pd")
    phase = world.crystal_phases[0]
    composition = {"Fe": 0.9, "Ga": 0.1, "Pd": 0.0}
    one = expected_rate(world.diffractometer, [phase], [1.0], [composition], 100.0, include_background=False)
    assert expected_rate(world.diffractometer, [phase], [1.0], [composition], 200.0, False) == pytest.approx(
        2 * one
    )
    assert expected_rate(world.diffractometer, [phase], [0.3], [composition], 100.0, False) == pytest.approx(
        0.3 * one
    )


def test_peak_areas_across_a_two_phase_region_follow_the_lever_rule():
    world = load_world("fe-ga-pd")
    grid = world.dense_grid(0.02)
    eq = world.equilibrium(grid)
    two = np.flatnonzero((eq.fractions[:, 0] > 0.2) & (eq.fractions[:, 1] > 0.2) & (eq.fractions.sum(1) > 0))
    two = [i for i in two if np.count_nonzero(eq.fractions[i] > 1e-9) == 2]
    assert two, "no bcc + fcc two-phase region"
    x = grid[two[0]]
    total = world.xrd_rate(dict(zip(world.elements, x, strict=True))) - world.diffractometer.background(
        world.diffractometer.two_theta_deg
    )
    parts = [
        expected_rate(
            world.diffractometer,
            [phase],
            [eq.fractions[two[0], i]],
            [dict(zip(world.elements, eq.phase_compositions[two[0], i], strict=True))],
            100.0,
            include_background=False,
        )
        for i, phase in enumerate(world.crystal_phases[:2])
    ]
    np.testing.assert_allclose(total, parts[0] + parts[1], rtol=1e-9, atol=1e-9)


def test_counts_are_poisson_and_their_mean_scales_with_count_time():
    world = load_world("fe-ga-pd", seed=3)
    composition = {"Fe": 0.85, "Ga": 0.13, "Pd": 0.02}
    rate = world.xrd_rate(composition)
    for count_time_s in (0.5, 4.0):
        counts = np.array([world.measure_xrd(composition, count_time_s).counts for _ in range(200)])
        expected = rate * count_time_s
        assert np.mean(counts.mean(axis=0) / expected) == pytest.approx(1.0, abs=0.01)
        dispersion = counts.var(axis=0, ddof=1) / expected
        assert np.median(dispersion) == pytest.approx(1.0, abs=0.05)


def test_a_pattern_carries_its_axis_and_wavelength():
    pattern = load_world("fe-ga-pd").measure_xrd({"Fe": 0.8, "Ga": 0.1, "Pd": 0.1}, 1.0)
    assert pattern.two_theta_deg.shape == pattern.counts.shape
    assert pattern.two_theta_deg[0] == pytest.approx(30.0) and pattern.two_theta_deg[-1] == pytest.approx(
        90.0
    )
    assert pattern.wavelength_a == pytest.approx(CU_KA1)
