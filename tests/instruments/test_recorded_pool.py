"""The pool instrument: recorded rows served through a Bluesky run, real Fe-Ga-Pd data included."""

import numpy as np
import pytest
from ophyd_async.plan_stubs import ensure_connected

from instruments.recorded.pool import (
    RecordedPool,
    RecordedValueReducer,
    fe_ga_pd_table,
    load_table,
    measure_recorded,
)


def run(run_engine, plan):
    documents = []
    run_engine(plan, lambda name, doc: documents.append((name, doc)))
    return documents


def test_the_fe_ga_pd_library_is_served_row_by_row_exactly_as_recorded(run_engine, fe_ga_pd_dir):
    table = fe_ga_pd_table(fe_ga_pd_dir)
    assert len(table) == 278
    pool = RecordedPool(table, name="pool")
    run_engine(ensure_connected(pool))
    raw = np.loadtxt(fe_ga_pd_dir / "FeGaPd_XRD.txt", delimiter=",")
    magnetism = np.loadtxt(fe_ga_pd_dir / "FeGaPd_Mag.txt", delimiter=",")
    for row in (0, 137, 277):
        documents = run(run_engine, measure_recorded(pool, row, md={"campaign": "replay"}))
        start = documents[0][1]
        descriptor, event = (
            (d for n, d in documents if n == "descriptor"),
            (d for n, d in documents if n == "event"),
        )
        descriptor, event = next(descriptor), next(event)
        assert start["row"] == row and start["table"] == "fe-ga-pd" and start["campaign"] == "replay"
        assert start["axes"] == {"pool-xrd_intensity": "pool-two_theta_deg"}
        assert descriptor["data_keys"]["pool-xrd_intensity"]["shape"] == [551]
        assert descriptor["data_keys"]["pool-two_theta_deg"]["units"] == "deg"
        np.testing.assert_array_equal(event["data"]["pool-xrd_intensity"], raw[row + 1])
        np.testing.assert_array_equal(event["data"]["pool-two_theta_deg"], raw[0])
        assert event["data"]["pool-squid_signal"] == magnetism[row, 0]
        total = sum(event["data"][f"pool-{e}"] for e in ("Fe", "Ga", "Pd"))
        assert total == pytest.approx(1.0)
        reduction = RecordedValueReducer("pool", {"magnetization_signal": 0.04}).reduce(documents)
        assert reduction.values == {"magnetization_signal": magnetism[row, 1]}
        assert reduction.variances == {"magnetization_signal": 0.04}


def test_a_row_outside_the_table_is_refused(run_engine, fe_ga_pd_dir):
    pool = RecordedPool(fe_ga_pd_table(fe_ga_pd_dir), name="pool")
    run_engine(ensure_connected(pool))
    with pytest.raises(Exception, match="row 278 is outside table 'fe-ga-pd'"):
        run_engine(measure_recorded(pool, 278))


def test_any_csv_table_can_be_a_pool(run_engine, tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("temperature_c,pressure_pa,yield\n300,1.0,0.5\n350,2.0,0.7\n")
    table = load_table(path, ["temperature_c", "pressure_pa"], ["yield"])
    pool = RecordedPool(table, name="pool")
    run_engine(ensure_connected(pool))
    event = next(d for n, d in run(run_engine, measure_recorded(pool, 1)) if n == "event")
    assert event["data"]["pool-temperature_c"] == 350.0 and event["data"]["pool-yield"] == 0.7


@pytest.mark.parametrize(
    ("text", "inputs", "message"),
    [
        ("a,b\n1,2\n", ["a", "c"], r"lacks column\(s\) \['c'\]"),
        ("a,b\n1,x\n", ["a", "b"], "column 'b'"),
        ("a,b\n", ["a"], "has no rows"),
    ],
)
def test_bad_tables_are_explained(tmp_path, text, inputs, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_table(path, inputs, [])


def test_a_recorded_pattern_reduces_to_its_phase_map_weights(run_engine, fe_ga_pd_dir):
    from instruments.reduction.xrd_phase_mapping import XrdComponentReducer, map_phases

    table = fe_ga_pd_table(fe_ga_pd_dir)
    array = table.arrays["xrd_intensity"]
    compositions = np.column_stack([table.conditions[e] for e in ("Fe", "Ga", "Pd")])
    phase_map = map_phases(array.axis, array.values, compositions)
    reducer = XrdComponentReducer(
        "pool-xrd_intensity", "pool-two_theta_deg", phase_map.components, array.axis
    )
    pool = RecordedPool(table, name="pool")
    run_engine(ensure_connected(pool))
    for row in (3, 150, 260):
        reduction = reducer.reduce(run(run_engine, measure_recorded(pool, row)))
        weights = np.array([reduction.values[f"component_{k}"] for k in range(len(phase_map.components))])
        mapped = phase_map.weights[row]
        cosine = weights @ mapped / (np.linalg.norm(weights) * np.linalg.norm(mapped))
        assert cosine > 0.9, (row, weights, mapped)
        assert all(v >= 0 for v in reduction.variances.values())
