"""A thin-film instrument rebuilt from its documents: the libraries it deposited, the spots it
measured and (simulated) the films themselves, as a resumed campaign needs them."""

import json

import numpy as np
import pytest
from ophyd_async.plan_stubs import ensure_connected

from instruments.simulated.thin_film import simulated_thin_film_instrument
from instruments.thin_film_instrument import ThinFilmInstrument

SETTINGS = {"xrd_count_time_s": 0.1, "spot_tolerance": 0.05}
A = {"Fe": 0.70, "Co": 0.20, "Ni": 0.10}
B = {"Fe": 0.20, "Co": 0.30, "Ni": 0.50}


def instrument(run_engine) -> ThinFilmInstrument:
    made = simulated_thin_film_instrument("fe-co-ni-oxide", ["magnetization"], 4, SETTINGS)
    run_engine(ensure_connected(*made.devices))
    return made


def measure(run_engine, made: ThinFilmInstrument, pid: str, condition: dict, **md) -> list:
    documents: list = []
    plan = made.plan(condition, {}, {"proposal_id": pid, **md})
    run_engine(plan, lambda name, doc: documents.append((name, doc)))
    return documents


@pytest.fixture
def history(run_engine):
    """Five proposals: deposit at A, reuse a spot near A, deposit at B, go back to a spot of the
    first library, and a deposition at A cut short after the wafer was read (no stop document)."""
    made = instrument(run_engine)
    plans = [
        ("p0001", measure(run_engine, made, "p0001", A, reason="new library")),
        ("p0002", measure(run_engine, made, "p0002", {"Fe": 0.69, "Co": 0.21, "Ni": 0.10})),
        ("p0003", measure(run_engine, made, "p0003", B, reason="new library")),
    ]
    ids, _ = made.unmeasured_spots()
    back = next(i for i in ids if i.startswith("L001-"))
    plans.append(("p0004", measure(run_engine, made, "p0004", A, target_spot=back)))
    documents = measure(run_engine, made, "p0005", A, reason="new library")
    first_stop = next(i for i, (name, _) in enumerate(documents) if name == "stop")
    assert documents[0][1]["plan_name"] == "deposit_library"
    plans.append(("p0005", documents[:first_stop]))  # the process died before the deposit's stop
    return made, plans


def test_a_fresh_instrument_rebuilds_libraries_spots_and_films_from_the_documents(run_engine, history):
    original, plans = history
    fresh = instrument(run_engine)
    fresh.restore_documents(plans)

    assert sorted(fresh.libraries) == ["L001", "L002", "L003"]
    for library_id in ("L001", "L002"):
        before, after = original.libraries[library_id], fresh.libraries[library_id]
        np.testing.assert_array_equal(after.positions_mm, before.positions_mm)
        np.testing.assert_array_equal(after.compositions, before.compositions)
        assert after.measured == before.measured and not after.failed
        film_before = original.hardware.lab.libraries[library_id]
        film_after = fresh.hardware.lab.libraries[library_id]
        np.testing.assert_allclose(film_after.compositions, film_before.compositions, rtol=1e-12)
        np.testing.assert_array_equal(film_after.measured_compositions, film_before.measured_compositions)
    assert len(original.libraries["L001"].measured) == 3  # p0001, p0002 and p0004 took spots there
    assert fresh.deposited_by == {"p0001": "L001", "p0003": "L002", "p0005": "L003"}

    # the deposition cut short: its library is recorded as failed, its spots are never offered, and
    # the proposal is reported once (then, asked again, it deposits a new wafer)
    assert "cut short" in fresh.libraries["L003"].failed
    ids, _ = fresh.unmeasured_spots()
    assert ids and not any(i.startswith("L003-") for i in ids)
    assert ids == tuple(i for i in original.unmeasured_spots()[0] if not i.startswith("L003-"))
    assert "cut short" in (fresh.interrupted("p0005") or "") and fresh.interrupted("p0005") is None
    assert fresh.interrupted("p0004") is None

    # a proposal sent again measures the spot it chose before; one that deposited goes back to its wafer
    again = measure(run_engine, fresh, "p0004", A, target_spot="L001-000")
    (spot_start,) = [d for n, d in again if n == "start" and d["plan_name"] == "measure_spot"]
    assert spot_start["spot_id"] == fresh.spot_of["p0004"] == original.spot_of["p0004"]
    deposits = [d for n, d in again if n == "start" and d["plan_name"] == "deposit_library"]
    assert not deposits
    fresh.spot_of.pop("p0003")
    again = measure(run_engine, fresh, "p0003", B, reason="new library")
    assert not [d for n, d in again if n == "start" and d["plan_name"] == "deposit_library"]
    (spot_start,) = [d for n, d in again if n == "start" and d["plan_name"] == "measure_spot"]
    assert spot_start["library_id"] == "L002" and spot_start["new_library"]


def test_documents_another_world_could_not_have_made_are_refused(run_engine, history):
    _, plans = history
    doctored = []
    for pid, documents in plans:
        changed = []
        for name, doc in documents:
            if name == "start" and doc.get("plan_name") == "deposit_library":
                doc = {**doc, "powers_w": {e: p / 2 for e, p in doc["powers_w"].items()}}
            changed.append((name, doc))
        doctored.append((pid, changed))
    with pytest.raises(ValueError, match="L001: its recorded thicknesses are not what world"):
        instrument(run_engine).restore_documents(doctored)


def test_a_fresh_worker_adopts_the_orchestrators_record_and_measures_the_same_wafers(run_engine, history):
    """What a queue server's new worker gets with a plan: the libraries, the spots taken and which
    proposal made what; it then measures an older library's spot on that film, not a new one."""
    original, _ = history
    summary = json.loads(json.dumps(original.record_summary()))  # as it travels: plain JSON
    worker = instrument(run_engine)
    worker.adopt_record(summary)
    worker.adopt_record(summary)  # adopting twice changes nothing
    assert sorted(worker.libraries) == sorted(original.libraries)
    for library_id, library in original.libraries.items():
        assert worker.libraries[library_id].measured == library.measured
        np.testing.assert_allclose(
            worker.hardware.lab.libraries[library_id].compositions,
            original.hardware.lab.libraries[library_id].compositions,
            rtol=1e-12,
        )
    assert worker.deposited_by == original.deposited_by and worker.spot_of == original.spot_of
    assert worker.unmeasured_spots()[0] == original.unmeasured_spots()[0]
    spot = next(i for i in worker.unmeasured_spots()[0] if i.startswith("L001-"))
    documents = measure(run_engine, worker, "p0006", A, target_spot=spot)
    (event,) = [d for n, d in documents if n == "event" and "sample_changer-wafer" in d["data"]]
    assert event["data"]["sample_changer-wafer"] == "L001"
    assert not [d for n, d in documents if n == "start" and d["plan_name"] == "deposit_library"]
