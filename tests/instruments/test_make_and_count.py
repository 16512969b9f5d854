import numpy as np
import pytest
from ophyd_async.plan_stubs import ensure_connected

from instruments import CountingReducer, ReductionError, SimulatedInstrument

TARGET = {"Fe": 0.77, "Ga": 0.08, "Pd": 0.15}


def run_once(run_engine, instrument, composition=TARGET, count_time_s=2.0, md=None):
    documents = []
    result = run_engine(
        instrument.plan(composition, {"count_time_s": count_time_s}, md or {"proposal_id": "p0001"}),
        lambda name, doc: documents.append((name, doc)),
    )
    return result, documents


@pytest.fixture
def instrument(run_engine):
    instrument = SimulatedInstrument("ternary-magnet", ["magnetization"], seed=4)
    run_engine(ensure_connected(*instrument.devices))
    return instrument


def test_one_run_emits_start_descriptor_event_stop_with_metadata_and_units(run_engine, instrument):
    result, documents = run_once(run_engine, instrument, md={"proposal_id": "p0042", "campaign": "c1"})
    assert result.exit_status == "success"
    assert [name for name, _ in documents] == ["start", "descriptor", "event", "stop"]
    start, descriptor, event, stop = (doc for _, doc in documents)
    assert start["proposal_id"] == "p0042" and start["campaign"] == "c1"
    assert start["composition"] == TARGET and start["composition_units"] == "at. fraction"
    assert start["count_time_s"] == 2.0
    assert start["detectors"] == ["counter_magnetization"]
    assert descriptor["name"] == "primary"
    keys = descriptor["data_keys"]
    assert keys["counter_magnetization-counts"]["units"] == "counts"
    # counts are whole numbers, carried as floats so that a glitching scaler (NaN) reaches the reducer
    assert keys["counter_magnetization-counts"]["dtype"] == "number"
    assert keys["synthesis-fe_fraction"]["units"] == "at. fraction"
    config = descriptor["configuration"]["counter_magnetization"]
    assert config["data"]["counter_magnetization-count_time_s"] == 2.0
    assert config["data_keys"]["counter_magnetization-counts_per_unit_s"]["units"] == "counts/(T*s)"
    made = {e: event["data"][f"synthesis-{e.lower()}_fraction"] for e in TARGET}
    assert made == TARGET
    assert stop["exit_status"] == "success" and stop["num_events"]["primary"] == 1
    assert stop["run_start"] == start["uid"] == result.run_start_uids[0]


def test_counts_scale_with_count_time(run_engine, instrument):
    short = [run_once(run_engine, instrument, count_time_s=0.5)[1][2][1]["data"] for _ in range(3)]
    long = [run_once(run_engine, instrument, count_time_s=5.0)[1][2][1]["data"] for _ in range(3)]
    key = "counter_magnetization-counts"
    assert np.mean([d[key] for d in long]) / np.mean([d[key] for d in short]) == pytest.approx(10, rel=0.1)


def test_reducer_recovers_the_truth_with_calibrated_variances(run_engine, instrument):
    truth = instrument.world.truth(np.array([list(TARGET.values())]))["magnetization"][0]
    z = []
    for _ in range(150):
        _, documents = run_once(run_engine, instrument, count_time_s=1.0)
        reduction = instrument.reduce(documents)
        assert reduction.run_uid == documents[0][1]["uid"]
        value, variance = reduction.values["magnetization"], reduction.variances["magnetization"]
        z.append((value - truth) / np.sqrt(variance))
    z = np.array(z)
    assert abs(z.mean()) < 0.25
    assert 0.8 < z.std() < 1.2


def test_reducer_names_the_missing_data_key(run_engine, instrument):
    _, documents = run_once(run_engine, instrument)
    reducer = CountingReducer(detector="no_such_counter", objective="magnetization")
    with pytest.raises(ReductionError, match="no_such_counter-counts"):
        reducer.reduce(documents)


def test_reducer_refuses_a_run_without_events(run_engine, instrument):
    _, documents = run_once(run_engine, instrument)
    without_events = [(n, d) for n, d in documents if n != "event"]
    with pytest.raises(ReductionError, match="no primary event"):
        instrument.reduce(without_events)


def test_an_instrument_refuses_objectives_its_world_cannot_measure():
    with pytest.raises(ValueError, match="cannot measure \\['band_gap'\\]"):
        SimulatedInstrument("ternary-magnet", ["band_gap"], seed=0)
