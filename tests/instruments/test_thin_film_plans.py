"""Plans over the thin-film devices: documents, safety, faults; simulated and EPICS (mock) forms."""

from functools import partial

import numpy as np
import pytest
import xraydb
from ophyd_async.core import callback_on_mock_execute, get_mock_put, set_mock_value
from ophyd_async.plan_stubs import ensure_connected

from instruments.devices.sputter import SAFE_HEATER_C, ShutterState
from instruments.devices.thin_film import epics_thin_film_devices
from instruments.faults import (
    DetectorSaturated,
    DeviceDisconnected,
    DeviceTimeout,
    InvalidReading,
    NoSampleFault,
    StageLimitFault,
    instrument_fault_in,
)
from instruments.plans.thin_film import (
    SpotRequest,
    characterize_spots,
    deposit_library,
    measure_spot,
    measure_xafs,
    measure_xrd,
    shortest_tour,
    xafs_scan_energies,
)
from instruments.simulated.thin_film import simulated_thin_film_devices

POWERS = {"Fe": 200.0, "Ga": 90.0, "Pd": 70.0}


def collect(run_engine, plan):
    documents = []
    run_engine(plan, lambda name, doc: documents.append((name, doc)))
    return documents


def docs_of(documents, kind):
    return [doc for name, doc in documents if name == kind]


@pytest.fixture
def lab(run_engine):
    devices = simulated_thin_film_devices("fe-ga-pd", seed=2)
    run_engine(ensure_connected(*devices.all))
    return devices


@pytest.fixture
def deposited(run_engine, lab):
    collect(run_engine, deposit_library(lab.sputter, POWERS, 3600.0, heater_c=350.0))
    return lab


def read(run_engine, signal):
    import bluesky.plan_stubs as bps

    return run_engine(bps.rd(signal)).plan_result


def test_deposit_library_documents_the_library_and_leaves_the_chamber_safe(run_engine, lab):
    documents = collect(
        run_engine, deposit_library(lab.sputter, POWERS, 3600.0, heater_c=350.0, md={"campaign": "c1"})
    )
    assert [n for n, _ in documents] == ["start", "descriptor", "event", "stop"]
    (start,), (descriptor,), (event,) = (
        docs_of(documents, "start"),
        docs_of(documents, "descriptor"),
        docs_of(documents, "event"),
    )
    assert start["plan_name"] == "deposit_library" and start["campaign"] == "c1"
    assert start["powers_w"] == POWERS and start["duration_s"] == 3600.0 and start["heater_c"] == 350.0
    assert start["units"] == {"powers_w": "W", "duration_s": "s", "heater_c": "degC"}
    keys = descriptor["data_keys"]
    assert keys["sputter-spot_x_mm"]["shape"] == [177] and keys["sputter-spot_x_mm"]["units"] == "mm"
    assert keys["sputter-fe_fraction"]["units"] == "at. fraction"
    assert keys["sputter-gun_fe-power_w"]["units"] == "W"
    assert event["data"]["sputter-library_id"] == "L001"
    fractions = np.column_stack([event["data"][f"sputter-{e.lower()}_fraction"] for e in ("Fe", "Ga", "Pd")])
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0)
    library = lab.lab.libraries["L001"]
    np.testing.assert_allclose(fractions, library.measured_compositions)
    assert event["data"]["sputter-gun_fe-shutter"] == ShutterState.CLOSED
    assert read(run_engine, lab.sputter.heater_c) == SAFE_HEATER_C
    assert library.powers_w == POWERS


def test_a_deposition_that_fails_halfway_closes_the_shutters_and_cools_the_heater(run_engine):
    devices = simulated_thin_film_devices("fe-ga-pd", seed=3, fault_rates={"sputter": {"timeout": 1.0}})
    run_engine(ensure_connected(*devices.all))
    documents = []
    with pytest.raises(Exception) as raised:
        run_engine(
            deposit_library(devices.sputter, POWERS, 3600.0, heater_c=400.0),
            lambda name, doc: documents.append((name, doc)),
        )
    fault = instrument_fault_in(raised.value)
    assert isinstance(fault, DeviceTimeout) and fault.device == "sputter"
    assert fault.condition == {"Fe_power_w": 200.0, "Ga_power_w": 90.0, "Pd_power_w": 70.0}
    assert "timeout on sputter at Fe_power_w=200" in str(fault)
    assert docs_of(documents, "stop")[0]["exit_status"] == "fail"
    for element in ("Fe", "Ga", "Pd"):
        assert read(run_engine, devices.sputter.gun(element).shutter) == ShutterState.CLOSED
    assert read(run_engine, devices.sputter.heater_c) == SAFE_HEATER_C
    assert devices.lab.libraries == {}


def test_measure_xrd_emits_the_pattern_with_its_axis_units_and_spot_metadata(run_engine, deposited):
    library = deposited.lab.libraries["L001"]
    position = tuple(library.positions_mm[20])
    md = {"campaign": "c1", "proposal_id": "p0003", "spot_id": "L001-20", "composition": {"Fe": 0.7}}
    documents = collect(run_engine, measure_xrd(deposited.stage, deposited.xrd, position, 2.0, md=md))
    (start,), (descriptor,), (event,) = (
        docs_of(documents, "start"),
        docs_of(documents, "descriptor"),
        docs_of(documents, "event"),
    )
    assert {k: start[k] for k in md} == md
    assert start["technique"] == "xrd" and start["count_time_s"] == {"xrd": 2.0}
    assert start["axes"] == {"xrd-counts": "xrd-two_theta_deg"}
    keys = descriptor["data_keys"]
    assert keys["xrd-counts"]["shape"] == [3001] and keys["xrd-counts"]["units"] == "counts"
    assert keys["xrd-two_theta_deg"]["shape"] == [3001] and keys["xrd-two_theta_deg"]["units"] == "deg"
    assert descriptor["configuration"]["xrd"]["data"]["xrd-count_time_s"] == 2.0
    assert descriptor["configuration"]["xrd"]["data"]["xrd-wavelength_a"] == pytest.approx(1.54088, abs=1e-4)
    assert event["data"]["wafer_stage-x"] == pytest.approx(position[0])
    rate = deposited.lab.world.xrd_rate(
        dict(zip(library.elements, library.compositions[20], strict=True)), library.thickness_nm[20]
    )
    counts = np.asarray(event["data"]["xrd-counts"])
    assert np.sum(counts) == pytest.approx(2.0 * rate.sum(), rel=0.01)


def test_a_spot_of_an_older_library_is_measured_on_that_wafer_not_the_last_one(run_engine, deposited):
    """After a second library, the sample changer puts the first one back before its spot is
    counted: the pattern is the first film's, and the event says which wafer was under the beam."""
    collect(run_engine, deposit_library(deposited.sputter, {"Fe": 60.0, "Ga": 200.0, "Pd": 200.0}, 3600.0))
    first, second = deposited.lab.libraries["L001"], deposited.lab.libraries["L002"]
    i = 20
    assert np.abs(first.compositions[i] - second.compositions[i]).max() > 0.1  # different films there
    position = tuple(first.positions_mm[i])

    def total_rate(library) -> float:
        composition = dict(zip(library.elements, library.compositions[i], strict=True))
        return float(deposited.lab.world.xrd_rate(composition, library.thickness_nm[i]).sum())

    assert abs(total_rate(first) / total_rate(second) - 1) > 0.1
    plan = measure_spot(deposited.stage, position, [(deposited.xrd, 2.0)], wafer=(deposited.changer, "L001"))
    documents = collect(run_engine, plan)
    (event,) = docs_of(documents, "event")
    assert event["data"]["sample_changer-wafer"] == "L001"
    assert np.sum(event["data"]["xrd-counts"]) == pytest.approx(2.0 * total_rate(first), rel=0.01)
    unknown = measure_spot(
        deposited.stage, position, [(deposited.xrd, 1.0)], wafer=(deposited.changer, "L009")
    )
    with pytest.raises(Exception) as raised:  # a wafer never deposited is a typed fault, before counting
        run_engine(unknown)
    assert isinstance(instrument_fault_in(raised.value), NoSampleFault)


def test_measure_xafs_steps_the_monochromator_across_xraydbs_edge(run_engine, deposited):
    position = tuple(deposited.lab.libraries["L001"].positions_mm[5])
    energies = xafs_scan_energies("Fe")
    documents = collect(run_engine, measure_xafs(deposited.stage, deposited.xafs, position, "Fe", 0.5))
    (start,) = docs_of(documents, "start")
    assert start["absorber"] == "Fe" and start["edge_energy_ev"] == xraydb.xray_edge("Fe", "K").energy
    assert start["num_points"] == len(energies) == len(docs_of(documents, "event"))
    (descriptor,) = docs_of(documents, "descriptor")
    assert descriptor["data_keys"]["xafs-energy_ev"]["units"] == "eV"
    assert descriptor["data_keys"]["xafs-i0"]["units"] == "counts"
    measured = np.array([e["data"]["xafs-energy_ev"] for e in docs_of(documents, "event")])
    np.testing.assert_allclose(measured, energies)
    assert np.all(np.diff(measured) > 0) and measured[0] < start["edge_energy_ev"] < measured[-1]


def test_a_move_off_the_wafer_is_refused_before_any_motion(run_engine, deposited):
    documents = []
    with pytest.raises(StageLimitFault, match=r"45\.00 mm from the centre; soft limit is 38\.1 mm"):
        run_engine(
            measure_xrd(deposited.stage, deposited.xrd, (27.0, 36.0), 1.0),
            lambda name, doc: documents.append((name, doc)),
        )
    assert documents == []  # no run was opened
    assert read(run_engine, deposited.stage.x.user_readback) == 0.0


def test_no_spot_under_the_beam_is_a_typed_fault(run_engine, deposited):
    with pytest.raises(Exception) as raised:
        run_engine(measure_xrd(deposited.stage, deposited.xrd, (1.0, 1.0), 1.0))
    fault = instrument_fault_in(raised.value)
    assert isinstance(fault, NoSampleFault) and "no spot of L001 within 1.0 mm" in str(fault)


@pytest.mark.parametrize(
    ("kind", "fault_type", "words"),
    [
        ("timeout", DeviceTimeout, "no answer"),
        ("disconnect", DeviceDisconnected, "lost its connection"),
        ("nan", InvalidReading, "NaN or infinite"),
        ("saturate", DetectorSaturated, "at or above"),
    ],
)
def test_detector_faults_are_typed_and_name_the_device_and_the_condition(run_engine, kind, fault_type, words):
    devices = simulated_thin_film_devices("fe-ga-pd", seed=4, fault_rates={"xrd": {kind: 1.0}})
    run_engine(ensure_connected(*devices.all))
    collect(run_engine, deposit_library(devices.sputter, POWERS, 3600.0))
    position = tuple(devices.lab.libraries["L001"].positions_mm[0])
    with pytest.raises(Exception) as raised:
        run_engine(measure_xrd(devices.stage, devices.xrd, position, 1.0, md={"composition": {"Fe": 0.61}}))
    fault = instrument_fault_in(raised.value)
    assert isinstance(fault, fault_type) and fault.device == "xrd"
    assert words in str(fault) and "Fe=0.61" in str(fault) and fault.condition["x_mm"] == position[0]


def test_characterize_spots_keeps_travel_short_and_runs_each_technique_per_spot(run_engine, deposited):
    library = deposited.lab.libraries["L001"]
    picks = [0, 176, 88, 5, 170]
    spots = [SpotRequest(f"L001-{i}", tuple(library.positions_mm[i]), {"campaign": "c"}) for i in picks]
    documents = []
    order = run_engine(
        characterize_spots(
            deposited.stage,
            spots,
            (0.0, 0.0),
            xrd=deposited.xrd,
            xafs=deposited.xafs,
            xafs_element="Fe",
            xafs_count_time_s=0.2,
        ),
        lambda name, doc: documents.append((name, doc)),
    ).plan_result
    assert order == [s.spot_id for s in shortest_tour((0.0, 0.0), spots)]
    starts = docs_of(documents, "start")
    assert [s["technique"] for s in starts] == ["xrd", "xafs"] * 5
    assert [s["spot_id"] for s in starts[::2]] == order and all(s["campaign"] == "c" for s in starts)
    tour = [np.array(library.positions_mm[int(o.split("-")[1])]) for o in order]
    travel = sum(np.linalg.norm(b - a) for a, b in zip([np.zeros(2), *tour], tour, strict=False))
    given = [np.array(library.positions_mm[i]) for i in picks]
    travel_as_given = sum(np.linalg.norm(b - a) for a, b in zip([np.zeros(2), *given], given, strict=False))
    assert travel < travel_as_given


def rise_and_fall(busy) -> None:
    set_mock_value(busy, True)
    set_mock_value(busy, False)


def test_the_epics_forms_connect_in_mock_mode_and_run_every_plan(run_engine):
    devices = epics_thin_film_devices("JK:", ["Fe", "Ga", "Pd"])
    run_engine(ensure_connected(*devices.all, mock=True))
    assert devices.xrd.counts.source == "mock+ca://JK:XRD:COUNTS"
    set_mock_value(devices.xrd.two_theta_deg, np.linspace(30, 90, 11))
    set_mock_value(devices.xrd.counts, np.arange(11.0))
    set_mock_value(devices.xrd.saturation_counts, 1e6)
    set_mock_value(devices.xafs.saturation_counts, 1e9)
    set_mock_value(devices.xafs.i0, 1e5)
    set_mock_value(devices.xafs.it, 3e4)
    for command, busy in (
        (devices.sputter.start, devices.sputter.busy),
        (devices.xrd.acquire, devices.xrd.busy),
        (devices.xafs.acquire, devices.xafs.busy),
    ):
        callback_on_mock_execute(command, partial(rise_and_fall, busy))  # as a real IOC's BUSY does
    for motor in (devices.stage.x, devices.stage.y):
        set_mock_value(motor.high_limit_travel, 50.0)
        set_mock_value(motor.low_limit_travel, -50.0)
        set_mock_value(motor.velocity, 10.0)
    deposit = collect(run_engine, deposit_library(devices.sputter, POWERS, 60.0, heater_c=300.0))
    assert docs_of(deposit, "stop")[0]["exit_status"] == "success"
    assert get_mock_put(devices.sputter.gun("Ga").power_w).call_args_list[-1].args[0] == 90.0
    assert get_mock_put(devices.sputter.heater_c).call_args_list[-1].args[0] == SAFE_HEATER_C
    xrd = collect(run_engine, measure_xrd(devices.stage, devices.xrd, (3.0, 4.0), 1.0))
    assert devices.changer.wafer.source == "mock+ca://JK:STAGE:WAFER"
    loaded = measure_spot(devices.stage, (3.0, 4.0), [(devices.xrd, 1.0)], wafer=(devices.changer, "L002"))
    assert docs_of(collect(run_engine, loaded), "event")[0]["data"]["sample_changer-wafer"] == "L002"
    assert get_mock_put(devices.changer.wafer).call_args_list[-1].args[0] == "L002"
    np.testing.assert_allclose(docs_of(xrd, "event")[0]["data"]["xrd-counts"], np.arange(11.0))
    xafs = collect(
        run_engine, measure_xafs(devices.stage, devices.xafs, (3.0, 4.0), "Fe", 1.0, [7100, 7110, 7120])
    )
    assert len(docs_of(xafs, "event")) == 3
    set_mock_value(devices.xrd.counts, np.full(11, 2e6))
    with pytest.raises(Exception) as raised:
        run_engine(measure_xrd(devices.stage, devices.xrd, (3.0, 4.0), 1.0))
    assert isinstance(instrument_fault_in(raised.value), DetectorSaturated)
