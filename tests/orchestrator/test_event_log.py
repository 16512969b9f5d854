import json

import pytest

from orchestrator.event_log import EventLog, EventLogError
from orchestrator.events import CampaignFinished, Faulted, Submitted


def test_events_round_trip_in_order_with_sequence_numbers(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.append(Submitted(proposal_id="p0001", executor="local"))
    log.append(Faulted(kind="device", message="timeout", proposal_id="p0001"))
    events = list(EventLog(tmp_path / "events.jsonl").read())
    assert [type(e).__name__ for e in events] == ["Submitted", "Faulted"]
    assert [e.seq for e in events] == [0, 1]
    assert events[1].message == "timeout" and events[1].schema_version == 1


def test_a_torn_last_record_is_dropped_and_the_next_append_starts_clean(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.append(Submitted(proposal_id="p0001", executor="local"))
    whole = CampaignFinished(status="finished", reason="budget reached").model_dump_json()
    with path.open("a") as handle:
        handle.write(whole[: len(whole) // 2])  # a crash mid-write
    reopened = EventLog(path)
    assert [e.seq for e in reopened.read()] == [0]
    reopened.append(Submitted(proposal_id="p0002", executor="local"))
    events = list(EventLog(path).read())
    assert [e.proposal_id for e in events] == ["p0001", "p0002"]
    assert [e.seq for e in events] == [0, 1]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_damaged_record_in_the_middle_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    for i in range(3):
        log.append(Submitted(proposal_id=f"p{i}", executor="local"))
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"Submitted"', '"Sbmitted"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(EventLogError, match="line 2"):
        list(EventLog(path).read())
