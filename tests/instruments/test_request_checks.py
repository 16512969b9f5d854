"""Every instrument plan checks its request at entry: a bad one is refused with one message naming
the value, before a run opens and before any setpoint moves."""

import math

import bluesky.plan_stubs as bps
import pytest
from ophyd_async.plan_stubs import ensure_connected

from instruments import SimulatedInstrument, simulated_thin_film_instrument
from instruments.plans.thin_film import deposit_library, measure_spot, measure_xafs, measure_xrd
from instruments.request_checks import InvalidRequest, checked_composition
from instruments.simulated.thin_film import simulated_thin_film_devices

GOOD = {"Fe": 0.6, "Ga": 0.3, "Pd": 0.1}


def refused(run_engine, plan) -> tuple[str, list]:
    documents: list = []
    with pytest.raises(InvalidRequest) as raised:
        run_engine(plan, lambda name, doc: documents.append(name))
    return str(raised.value), documents


def read_all(run_engine, signals) -> list:
    return [run_engine(bps.rd(s)).plan_result for s in signals]


@pytest.mark.parametrize(
    ("composition", "count_time_s", "message"),
    [
        (
            {"Fe": 1.5, "Ga": -0.5, "Pd": 0.0},
            1.0,
            "the fraction of Fe is 1.5; atomic fractions are in [0, 1]",
        ),
        ({"Fe": 0.9, "Ga": 0.2, "Pd": 0.1}, 1.0, "sums to 1.2; atomic fractions sum to 1"),
        (
            {"Fe": 0.5, "Ga": 0.3, "Xx": 0.2},
            1.0,
            "names 'Xx': not an element of this instrument (Fe, Ga, Pd)",
        ),
        ({"Fe": 0.5, "Ga": 0.5}, 1.0, "gives no fraction for Pd (give every element of Fe, Ga, Pd)"),
        ({"Fe": math.nan, "Ga": 0.5, "Pd": 0.5}, 1.0, "the fraction of Fe = nan is not a finite number"),
        ({"Fe": "a lot", "Ga": 0.5, "Pd": 0.5}, 1.0, "the fraction of Fe = 'a lot' is not a number"),
        (GOOD, 0.0, "count_time_s = 0 s; a count time is above 0 and at most 3600 s"),
        (GOOD, -2.0, "count_time_s = -2 s"),
        (GOOD, 1e6, "count_time_s = 1e+06 s"),
        (GOOD, None, "count_time_s = None is not a number"),
    ],
)
def test_make_and_count_refuses_a_bad_request_before_the_synthesis_moves(
    run_engine, composition, count_time_s, message
):
    instrument = SimulatedInstrument("fe-ga-pd", ["magnetization"], seed=1)
    run_engine(ensure_connected(*instrument.devices))
    signals = [instrument.synthesis.fraction(e) for e in instrument.synthesis.elements]
    signals += [c.count_time_s for c in instrument.counters.values()]
    before = read_all(run_engine, signals)
    text, documents = refused(run_engine, instrument.plan(composition, {"count_time_s": count_time_s}, {}))
    assert message in text and documents == []
    assert read_all(run_engine, signals) == before


def test_the_thin_film_instrument_refuses_before_any_gun_or_stage_moves(run_engine):
    instrument = simulated_thin_film_instrument("fe-ga-pd", ["magnetization"], seed=1, settings={})
    run_engine(ensure_connected(*instrument.devices))
    sputter = instrument.hardware.sputter
    signals = [sputter.gun(e).power_w for e in sputter.elements] + [sputter.deposition_time_s]
    signals += [instrument.hardware.stage.x.user_readback, instrument.hardware.xrd.count_time_s]
    before = read_all(run_engine, signals)
    for condition, measurement, message in [
        ({"Fe": 1.5, "Ga": -0.5, "Pd": 0.0}, {}, "the fraction of Fe is 1.5"),
        ({"Fe": 0.5, "Ga": 0.3, "Au": 0.2}, {}, "names 'Au': not an element"),
        (GOOD, {"count_time_s": 0.0}, "count_time_s = 0 s"),
    ]:
        text, documents = refused(run_engine, instrument.plan(condition, measurement, {"proposal_id": "p1"}))
        assert message in text and documents == []
    assert read_all(run_engine, signals) == before and instrument.libraries == {}


@pytest.mark.parametrize(
    ("powers", "duration_s", "message"),
    [
        ({"Fe": 300.0, "Ga": 90.0}, 600.0, "the power of the Fe gun = 300 W; valid: 0 to 250 W"),
        ({"Fe": -5.0, "Ga": 90.0}, 600.0, "the power of the Fe gun = -5 W"),
        ({"Fe": math.inf}, 600.0, "the power of the Fe gun = inf is not a finite number"),
        ({"Au": 50.0}, 600.0, "no gun for Au; the sputter system has Fe, Ga, Pd"),
        ({"Fe": 0.0, "Ga": 0.0}, 600.0, "at least one gun must be on"),
        ({"Fe": 100.0}, 0.0, "the deposition time = 0 s"),
    ],
)
def test_deposit_library_refuses_powers_and_times_beyond_the_limits(run_engine, powers, duration_s, message):
    devices = simulated_thin_film_devices("fe-ga-pd", seed=1)
    run_engine(ensure_connected(*devices.all))
    guns = [devices.sputter.gun(e).power_w for e in devices.sputter.elements]
    before = read_all(run_engine, guns)
    text, documents = refused(run_engine, deposit_library(devices.sputter, powers, duration_s))
    assert message in text and documents == []
    assert read_all(run_engine, guns) == before and devices.lab.libraries == {}


def test_measuring_plans_refuse_a_count_time_that_is_not_positive(run_engine):
    devices = simulated_thin_film_devices("fe-ga-pd", seed=1)
    run_engine(ensure_connected(*devices.all))
    for plan, message in [
        (measure_xrd(devices.stage, devices.xrd, (0.0, 0.0), 0.0), "the count time of xrd = 0 s"),
        (measure_spot(devices.stage, (0.0, 0.0), [(devices.xrd, -1.0)]), "the count time of xrd = -1 s"),
        (measure_xafs(devices.stage, devices.xafs, (0.0, 0.0), "Fe", 0.0), "the count time of xafs = 0 s"),
    ]:
        text, documents = refused(run_engine, plan)
        assert message in text and documents == []


def test_a_composition_on_the_simplex_passes_within_its_tolerance():
    assert checked_composition({"Fe": 0.5, "Ga": 0.5 + 5e-7, "Pd": 0}, ["Fe", "Ga", "Pd"]) == {
        "Fe": 0.5,
        "Ga": 0.5 + 5e-7,
        "Pd": 0.0,
    }
