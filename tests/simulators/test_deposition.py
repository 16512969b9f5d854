"""Co-sputtering: flux geometry, composition via density and molar mass, thickness, layout."""

import numpy as np
import pytest
import xraydb

from simulators import SpotLayout, SputterGun, WorldInputError, load_world
from simulators.deposition import deposit_library


def test_a_spots_composition_matches_the_hand_computed_value():
    # Fe gun straight above the spot; Pd gun 100 mm to the side, both aimed at the spot.
    fe = SputterGun("Fe", (0.0, 0.0, 100.0), rate_nm_s_per_w=0.001)
    pd = SputterGun("Pd", (100.0, 0.0, 100.0), rate_nm_s_per_w=0.002)
    layout = SpotLayout(np.array([[0.0, 0.0]]), 76.2)
    library = deposit_library([fe, pd], {"Fe": 100.0, "Pd": 50.0}, 1000.0, layout, np.random.default_rng(0))
    # by hand: the Fe gun emits along its axis at normal incidence at its own aim distance
    j_fe = 0.001 * 100.0 * 1.0 * 1.0 * 1.0
    # the Pd gun: on axis (cos theta = 1), incidence cos phi = 100 / (100*sqrt 2), r = aim distance
    j_pd = 0.002 * 50.0 * 1.0 * (1 / np.sqrt(2)) * 1.0
    n_fe = j_fe * xraydb.atomic_density("Fe") / xraydb.atomic_mass("Fe")
    n_pd = j_pd * xraydb.atomic_density("Pd") / xraydb.atomic_mass("Pd")
    assert library.compositions[0] == pytest.approx([n_fe / (n_fe + n_pd), n_pd / (n_fe + n_pd)], rel=1e-12)
    assert library.thickness_nm[0] == pytest.approx((j_fe + j_pd) * 1000.0, rel=1e-12)


def test_flux_falls_off_the_gun_axis_as_cos_n_theta_cos_phi_over_r_squared():
    gun = SputterGun("Fe", (0.0, 0.0, 100.0), rate_nm_s_per_w=0.001, cosine_exponent=2.0)
    spot = np.array([[30.0, 40.0]])
    r = np.sqrt(30**2 + 40**2 + 100**2)
    cos = 100 / r  # emission and incidence angles are equal for a gun above the centre
    assert gun.flux_nm_s(100.0, spot)[0] == pytest.approx(0.1 * cos**2 * cos * (100 / r) ** 2, rel=1e-12)


def test_the_default_layout_has_177_spots_on_a_3_inch_wafer():
    layout = SpotLayout.square_grid()
    assert len(layout.positions_mm) == 177
    assert np.hypot(*layout.positions_mm.T).max() <= 76.2 / 2 - 3.0


@pytest.mark.parametrize("world_name", ["fe-ga-pd", "fe-co-ni-oxide"])
def test_a_library_spreads_composition_towards_each_gun(world_name):
    world = load_world(world_name, seed=1)
    library = world.deposit({e: 150.0 for e in world.elements}, duration_s=3600)
    assert len(library) == 177 and library.compositions.shape == (177, 3)
    np.testing.assert_allclose(library.compositions.sum(axis=1), 1.0)
    for i, gun in enumerate(world.guns):
        distance = np.hypot(*(library.positions_mm - np.array(gun.position_mm[:2])).T)
        assert np.corrcoef(distance, library.compositions[:, i])[0, 1] < -0.9
    assert np.ptp(library.compositions, axis=0).min() > 0.15  # a real gradient
    assert 50 < library.thickness_nm.min() < library.thickness_nm.max() < 2000


def test_composition_is_measured_with_about_one_at_percent_error():
    library = load_world("fe-ga-pd", seed=2).deposit({"Fe": 200, "Ga": 100, "Pd": 80})
    error = library.measured_compositions - library.compositions
    assert error.std() == pytest.approx(0.01, rel=0.2)
    np.testing.assert_allclose(library.measured_compositions.sum(axis=1), 1.0)


def test_more_power_on_a_gun_means_more_of_its_element():
    world = load_world("fe-ga-pd", seed=3)
    low = world.deposit({"Fe": 150, "Ga": 50, "Pd": 100})
    high = world.deposit({"Fe": 150, "Ga": 150, "Pd": 100})
    assert np.all(high.compositions[:, 1] > low.compositions[:, 1])
    assert np.all(high.thickness_nm > low.thickness_nm)


@pytest.mark.parametrize(
    ("powers", "duration", "message"),
    [
        (
            {"Fe": -5.0, "Ga": 100.0, "Pd": 100.0},
            3600.0,
            "power of the Fe gun is -5.0 W; valid: 0 to 300.0 W",
        ),
        ({"Fe": 100.0, "Co": 100.0}, 3600.0, "no gun for ['Co']"),
        ({"Fe": 100.0}, 0.0, "duration_s must be a positive number"),
        ({"Fe": 0.0, "Ga": 0.0}, 3600.0, "every gun is at 0 W"),
    ],
)
def test_bad_deposition_requests_are_refused(powers, duration, message):
    with pytest.raises(WorldInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_world("fe-ga-pd").deposit(powers, duration_s=duration)
