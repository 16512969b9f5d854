"""Absorption spectra: edges at xraydb's energies plus the valence shift, counting noise."""

import numpy as np
import pytest
import xraydb

from simulators import WorldInputError, load_world
from simulators.xafs import AbsorberSite, XafsBeamline, absorbance, normalised_mu


def derivative_edge(energy, mu):
    """E0 as the maximum of dmu/dE, refined by a parabola."""
    d = np.gradient(mu, energy)
    window = (energy > energy[0] + 100) & (energy < energy[0] + 200)
    i = np.flatnonzero(window)[np.argmax(d[window])]
    y0, y1, y2 = d[i - 1 : i + 2]
    return energy[i] + 0.5 * (energy[1] - energy[0]) * (y0 - y2) / (y0 - 2 * y1 + y2)


@pytest.mark.parametrize(
    ("element", "valence"), [("Fe", 0), ("Fe", 2), ("Fe", 3), ("Co", 2), ("Ni", 2), ("Ga", 0)]
)
def test_the_edge_is_at_xraydbs_energy_plus_the_valence_shift(element, valence):
    beamline = XafsBeamline()
    energy = beamline.energies(element)
    mu = normalised_mu(beamline, element, energy, [AbsorberSite(1.0, valence, 2.1)])
    expected = xraydb.xray_edge(element, "K").energy + beamline.shift_ev_per_valence * valence
    assert derivative_edge(energy, mu) == pytest.approx(expected, abs=0.3)


def test_one_valence_step_shifts_the_edge_by_1_5_to_2_ev():
    world = load_world("fe-co-ni-oxide")
    rocksalt = {"Fe": 0.04, "Co": 0.3, "Ni": 0.66}  # Fe2+
    spinel = {"Fe": 0.7, "Co": 0.12, "Ni": 0.18}  # mostly Fe3+
    v_low, v_high = world.mean_valence(rocksalt, "Fe"), world.mean_valence(spinel, "Fe")
    assert v_low == pytest.approx(2.0) and 2.8 < v_high <= 3.0
    e_low = derivative_edge(*world.xafs_mu(rocksalt, "Fe"))
    e_high = derivative_edge(*world.xafs_mu(spinel, "Fe"))
    shift_per_step = (e_high - e_low) / (v_high - v_low)
    assert 1.5 <= shift_per_step <= 2.0


def test_metals_sit_at_the_tabulated_edge_in_the_alloy_world():
    world = load_world("fe-ga-pd")
    energy, mu = world.xafs_mu({"Fe": 0.85, "Ga": 0.13, "Pd": 0.02}, "Fe")
    assert derivative_edge(energy, mu) == pytest.approx(xraydb.xray_edge("Fe", "K").energy, abs=0.3)


def test_oxides_have_a_stronger_white_line_and_a_pre_edge_peak():
    beamline = XafsBeamline()
    energy = beamline.energies("Fe")
    metal = normalised_mu(beamline, "Fe", energy, [AbsorberSite(1.0, 0, 2.48)])
    oxide = normalised_mu(beamline, "Fe", energy, [AbsorberSite(1.0, 3, 2.0)])
    assert oxide.max() > 1.5 > metal.max()
    pre = (energy > beamline.edge_energy("Fe", 3) - 14) & (energy < beamline.edge_energy("Fe", 3) - 6)
    assert np.any(np.diff(oxide[pre]) < 0), "the oxide has a pre-edge peak"
    assert np.all(np.diff(metal[(energy < beamline.edge_energy("Fe", 0))]) >= 0), (
        "the metal rises monotonically"
    )


def test_background_comes_from_the_samples_other_elements():
    beamline = XafsBeamline()
    light = absorbance(beamline, "Fe", {"Fe": 1.0, "O": 1.0}, [AbsorberSite(1, 2, 2.1)])[1]
    heavy = absorbance(beamline, "Fe", {"Fe": 0.5, "Pd": 0.5}, [AbsorberSite(1, 0, 2.5)])[1]
    assert heavy[0] > light[0]  # Pd absorbs more below the Fe edge than O
    step = lambda mu: mu[-400] - mu[250]  # noqa: E731 - above minus below the edge
    assert step(light) == pytest.approx(step(heavy), rel=0.25)  # the edge jump is the set-up's


def test_noise_is_sqrt_of_one_over_n0_plus_one_over_n_and_falls_as_one_over_root_time():
    world = load_world("fe-co-ni-oxide", seed=8)
    composition = {"Fe": 0.5, "Co": 0.2, "Ni": 0.3}
    _, mu_x = world.xafs_mu(composition, "Ni")
    spread = {}
    for count_time_s in (0.5, 2.0):
        spectra = [world.measure_xafs(composition, "Ni", count_time_s) for _ in range(200)]
        mu = np.array([s.mu for s in spectra])
        predicted = np.sqrt(
            1 / np.mean([s.i0_counts for s in spectra], axis=0)
            + 1 / np.mean([s.it_counts for s in spectra], axis=0)
        )
        z = (mu - mu_x) / predicted
        assert abs(np.median(z.mean(axis=0))) < 0.1
        assert np.median(z.std(axis=0)) == pytest.approx(1.0, abs=0.05)
        spread[count_time_s] = np.median(mu.std(axis=0))
    assert spread[0.5] / spread[2.0] == pytest.approx(2.0, rel=0.08)


@pytest.mark.parametrize(
    ("composition", "element", "count_time_s", "message"),
    [
        ({"Fe": 0.5, "Co": 0.5, "Ni": 0.0}, "Ni", 1.0, "has no Ni to absorb"),
        ({"Fe": 0.5, "Co": 0.5, "Ni": 0.0}, "Cu", 1.0, "unknown absorber 'Cu'"),
        ({"Fe": 0.5, "Co": 0.5, "Ni": 0.0}, "Fe", 0.0, "count_time_s must be a positive number"),
        ({"Fe": 0.6, "Co": 0.5, "Ni": 0.0}, "Fe", 1.0, "sums to 1.1"),
    ],
)
def test_bad_xafs_requests_name_the_value(composition, element, count_time_s, message):
    with pytest.raises(WorldInputError, match=message):
        load_world("fe-co-ni-oxide").measure_xafs(composition, element, count_time_s)
