"""Resume after kill -9 at random moments, reconciliation with the documents, replay --verify."""

import copy
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from orchestrator.document_journal import DOCUMENTS_DIR, read_journal
from orchestrator.event_log import EventLog
from orchestrator.loop import CampaignLoop
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy
from tests.orchestrator.crashing_executor import CrashAfterRun, CrashingExecutor


def junkan_process(*args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(process: subprocess.Popen, log: Path, n_lines: int, timeout: float = 120) -> bool:
    """SIGKILL once the log holds `n_lines` events; False if the campaign ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and log.read_bytes().count(b"\n") >= n_lines:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    process.communicate(timeout=timeout)
    return False


def events_of(store: Path) -> list:
    return list(EventLog(store / "events.jsonl").read())


def typed(events: list, name: str) -> list:
    return [e for e in events if type(e).__name__ == name]


@pytest.fixture
def resumable(short_campaign, tmp_path) -> Path:
    campaign = copy.deepcopy(short_campaign)
    campaign.update(budget=9)
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    return path


@pytest.mark.integration
def test_killed_at_random_moments_and_resumed_it_ends_with_one_observation_per_measurement(
    resumable, tmp_path
):
    store = tmp_path / "store"
    log = store / "events.jsonl"
    rng = random.Random(20261122)
    process = junkan_process("run", resumable, "--store", store)
    kills = 0
    # one event line per step of the loop: a kill anywhere between proposing and learning
    for _ in range(3):
        n_lines = log.read_bytes().count(b"\n") if log.exists() else 0
        if not kill_after(process, log, n_lines + rng.randint(2, 14)):
            break
        kills += 1
        if kills == 1:  # no process runs it and its log has no end: not 'running'
            killed = subprocess.run(
                [sys.executable, "-m", "orchestrator", "status", store], capture_output=True, text=True
            )
            assert killed.returncode == 0, killed.stderr
            assert "interrupted" in killed.stdout and f"junkan resume {store}" in killed.stdout
            assert "running" not in killed.stdout.split("interrupted")[0]
            document = json.loads(
                subprocess.run(
                    [sys.executable, "-m", "orchestrator", "status", store, "--json"],
                    capture_output=True,
                    check=True,
                ).stdout
            )
            assert document["state"] == "interrupted" and document["logged_state"] in ("running", "paused")
        process = junkan_process("resume", store)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert kills == 3

    events = events_of(store)
    observations = [e.observation for e in typed(events, "Observed")]
    assert typed(events, "CampaignFinished")[-1].status == "finished"
    assert len(observations) == 9 and len(typed(events, "Resumed")) == 3
    assert len({o.proposal_id for o in observations}) == 9
    assert len({o.run_uid for o in observations}) == 9
    # a measurement is complete when its plan finished; each complete one is observed exactly once
    complete = {}
    for journal in (store / DOCUMENTS_DIR).glob("p*.jsonl"):
        if ".attempt-" in journal.name:
            continue
        documents, exit_status = read_journal(store, journal.stem)
        if exit_status == "success":
            complete[journal.stem] = next(doc["uid"] for name, doc in documents if name == "start")
    assert complete == {o.proposal_id: o.run_uid for o in observations}
    # a proposal is made once: in-flight ones were re-submitted or recorded, never re-asked
    assert len(typed(events, "Proposed")) == 9
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "orchestrator", "status", store, "--json"], capture_output=True, check=True
        ).stdout
    )
    assert status["state"] == "finished" and status["n_observations"] == 9

    verify = subprocess.run(
        [sys.executable, "-m", "orchestrator", "replay", store, "--verify"], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr
    assert "all 9 proposals re-decided identically" in verify.stdout


def loop_for(store_path: Path, crash_on_run: int = 0) -> tuple[CampaignLoop, CrashingExecutor]:
    store = CampaignStore.open(store_path)
    spec = store.spec()
    instrument = build_instrument(spec, spec.seed)
    executor = CrashingExecutor(instrument, crash_on_run)
    return CampaignLoop(store, build_policy(spec, spec.seed), instrument, executor, spec.seed), executor


def test_a_plan_that_finished_before_the_crash_is_recorded_from_its_documents_not_measured_again(
    short_campaign, tmp_path
):
    from orchestrator.campaign import parse_campaign

    text = yaml.safe_dump({**short_campaign, "budget": 5}, sort_keys=False)
    CampaignStore.create(tmp_path / "store", parse_campaign(text, "campaign.yaml"), text)
    loop, _ = loop_for(tmp_path / "store", crash_on_run=3)
    with pytest.raises(CrashAfterRun):
        loop.run()
    before = events_of(tmp_path / "store")
    assert len(typed(before, "Observed")) == 2 and typed(before, "RunStarted")[-1].proposal_id == "p0003"

    loop, executor = loop_for(tmp_path / "store")
    state = loop.run()
    events = events_of(tmp_path / "store")
    (resumed,) = typed(events, "Resumed")
    assert resumed.reconciled == {"p0003": "observed from its documents"}
    assert executor.runs == 2  # p0004 and p0005 only: p0003 was not measured again
    assert state.status == "finished" and [o.proposal_id for o in state.observations] == [
        "p0001",
        "p0002",
        "p0003",
        "p0004",
        "p0005",
    ]
    documents, _ = read_journal(tmp_path / "store", "p0003")
    assert state.observations[2].run_uid == next(doc["uid"] for name, doc in documents if name == "start")


def test_resume_refuses_a_finished_campaign_and_a_directory_that_is_no_store(
    junkan, write_campaign, short_campaign, tmp_path
):
    store = tmp_path / "store"
    assert junkan("run", write_campaign({**short_campaign, "budget": 3}), "--store", store).exit_code == 0
    result = junkan("resume", store)
    assert result.exit_code == 2 and "'finished'" in result.output and "running" in result.output
    result = junkan("resume", tmp_path)
    assert result.exit_code == 2 and "not a junkan store" in result.output


def test_verify_fails_on_a_tampered_log_and_names_the_first_difference(
    junkan, write_campaign, short_campaign, tmp_path
):
    store = tmp_path / "store"
    assert junkan("run", write_campaign({**short_campaign, "budget": 5}), "--store", store).exit_code == 0
    assert junkan("replay", store, "--verify").exit_code == 0
    lines = (store / "events.jsonl").read_text().splitlines()
    # tamper with an observed value: the policy learns something else, so a later proposal differs
    observed = [i for i, line in enumerate(lines) if '"Observed"' in line]
    record = json.loads(lines[observed[3]])
    record["observation"]["values"]["magnetization"] += 0.5
    lines[observed[3]] = json.dumps(record)
    (store / "events.jsonl").write_text("\n".join(lines) + "\n")
    result = junkan("replay", store, "--verify")
    assert result.exit_code == 1
    assert "replay differs" in result.output and "p0005" in result.output and "in the log" in result.output


def open_runs_in(store: Path) -> dict[str, str]:
    """Run uid -> plan name of the runs the newest journal has started and not stopped."""
    journals = sorted(p for p in (store / DOCUMENTS_DIR).glob("p*.jsonl") if ".attempt-" not in p.name)
    open_runs: dict[str, str] = {}
    for line in journals[-1].read_text().split("\n")[:-1] if journals else []:
        name, doc = json.loads(line)
        if name == "start":
            open_runs[doc["uid"]] = doc["plan_name"]
        elif name == "stop":
            open_runs.pop(doc["run_start"], None)
    return open_runs


def kill_inside(
    process: subprocess.Popen, store: Path, plan_name: str, killed: set[str], timeout: float = 180
) -> bool:
    """SIGKILL while a run of `plan_name` is open that no earlier kill cut (`killed`: their uids);
    False if the campaign ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            runs = open_runs_in(store)
        except (json.JSONDecodeError, FileNotFoundError):  # caught mid-write or mid-rename
            runs = {}
        fresh = [uid for uid, name in runs.items() if name == plan_name and uid not in killed]
        if fresh:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed.update(fresh)
            return True
    process.communicate(timeout=timeout)
    return False


@pytest.mark.integration
def test_a_thin_film_campaign_killed_in_deposits_spots_and_xafs_resumes_to_its_budget(tmp_path):
    """SIGKILL inside each kind of run at seeded moments, resume each time: one observation per
    measurement, no spot measured twice, no library deposited twice for one proposal, every
    library in the store as its deposit documents say, and the decisions replay exactly."""
    from orchestrator.campaign import load_campaign

    campaign = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml").read_text()
    )
    campaign.update(budget=8)
    campaign["policy"].update(n_sobol=3, num_restarts=2, raw_samples=32, mc_samples=64)
    campaign["instrument"]["library"]["spot_tolerance"] = 0.12  # spots of earlier libraries are reused
    campaign["instrument"]["xafs"]["count_time_s"] = 0.05
    path = tmp_path / "thin-film.yaml"
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    load_campaign(path)  # valid as written
    store = tmp_path / "store"
    # Until one deposit finishes there is no library to measure, so the first two runs are
    # deposits whatever the policy proposes; the kills inside spot and XAFS runs come in a seeded
    # order after them. (Seeded kills anywhere relied on the policy depositing again late in the
    # campaign, which a host's last-bit differences in its proposals can change.)
    rng = random.Random(20261205)
    measurements = ["measure_spot", "measure_xafs"] * 2
    rng.shuffle(measurements)
    targets = ["deposit_library", "deposit_library", *measurements]
    process = junkan_process("run", path, "--store", store)
    killed_in: list[str] = []
    killed_runs: set[str] = set()
    for plan_name in targets:
        if not kill_inside(process, store, plan_name, killed_runs):
            break
        killed_in.append(plan_name)
        process = junkan_process("resume", store)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert sorted(killed_in) == sorted(targets), killed_in

    events = events_of(store)
    observations = [e.observation for e in typed(events, "Observed")]
    assert typed(events, "CampaignFinished")[-1].status == "finished"
    assert len(observations) == 8 and len(typed(events, "Resumed")) == 6
    spots = [o.sample["spot_id"] for o in observations]
    assert len(set(spots)) == len(spots), "a spot measured twice"
    # every deposit that finished made one library; no proposal deposited two; the store's spots
    # are where and what the deposit documents say
    libraries, depositors = {}, []
    for journal in sorted((store / DOCUMENTS_DIR).glob("p*.jsonl")):
        lines = [json.loads(line) for line in journal.read_text().split("\n")[:-1]]
        runs = {doc["uid"]: doc for name, doc in lines if name == "start"}
        stopped = {doc["run_start"]: doc["exit_status"] for name, doc in lines if name == "stop"}
        for name, doc in lines:
            if name == "event" and "sputter-library_id" in doc["data"]:
                start = next(s for s in runs.values() if s["plan_name"] == "deposit_library")
                if stopped.get(start["uid"]) == "success":
                    library_id = doc["data"]["sputter-library_id"]
                    assert library_id not in libraries, f"{library_id} deposited twice"
                    libraries[library_id] = doc["data"]
                    depositors.append(start["proposal_id"])
    assert len(depositors) == len(set(depositors)), "a proposal deposited two libraries"
    for observation in observations:
        data = libraries[observation.sample["library_id"]]
        index = int(observation.sample["spot_id"].rpartition("-")[2])
        assert observation.sample["x_mm"] == pytest.approx(data["sputter-spot_x_mm"][index])
        assert observation.sample["y_mm"] == pytest.approx(data["sputter-spot_y_mm"][index])
        for element in ("Fe", "Co", "Ni"):
            assert observation.condition[element] == pytest.approx(
                data[f"sputter-{element.lower()}_fraction"][index]
            )
    for fault in typed(events, "Faulted"):  # a deposition cut short: recorded, then the policy chose anew
        assert fault.action == "skip" and "cut short" in fault.message

    verify = subprocess.run(
        [sys.executable, "-m", "orchestrator", "replay", store, "--verify"], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
