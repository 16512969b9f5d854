"""A person's hand on the loop: approve or reject proposals, inject a condition, pause, stop."""

import copy
import re

import yaml

from orchestrator.campaign import parse_campaign
from orchestrator.control import ControlRequest, send
from orchestrator.local_executor import LocalExecutor
from orchestrator.loop import CampaignLoop
from orchestrator.replay import first_difference
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy


def new_store(short_campaign, tmp_path, **changes) -> CampaignStore:
    campaign = copy.deepcopy(short_campaign)
    campaign.update(changes)
    text = yaml.safe_dump(campaign, sort_keys=False)
    return CampaignStore.create(tmp_path / "store", parse_campaign(text, "campaign.yaml"), text)


def loop_of(store: CampaignStore, notify=None) -> CampaignLoop:
    spec = store.spec()
    instrument = build_instrument(spec, spec.seed)
    policy = build_policy(spec, spec.seed)
    return CampaignLoop(store, policy, instrument, LocalExecutor(instrument), spec.seed, notify=notify)


def test_in_approval_mode_a_rejected_proposal_is_never_measured_and_not_proposed_again(
    short_campaign, tmp_path
):
    store = new_store(short_campaign, tmp_path, budget=5, approve_before_submit=True)
    asked = []

    def answer(message: str) -> None:  # a person at the dashboard, answering each request
        (pid,) = re.findall(r"(p\d{4}) waits for approval", message)
        asked.append(pid)
        send(store.path, ControlRequest(command="reject" if pid == "p0004" else "approve", proposal_id=pid))

    state = loop_of(store, notify=answer).run()
    assert state.status == "finished" and len(state.observations) == 5
    assert asked == ["p0001", "p0002", "p0003", "p0004", "p0005", "p0006"]
    assert "p0004" in state.rejected and "p0004" not in state.submitted
    assert "p0004" not in {o.proposal_id for o in state.observations}
    rejected = state.rejected["p0004"]
    following = state.proposals["p0005"].proposal.condition
    assert max(abs(following[e] - rejected[e]) for e in rejected) > 1e-3
    assert first_difference(store.spec(), list(store.log.read())) is None  # replay re-decides it all


def test_an_injected_condition_is_measured_next_then_pause_and_stop_take_effect(short_campaign, tmp_path):
    store = new_store(short_campaign, tmp_path, budget=6)
    send(store.path, ControlRequest(command="inject", condition={"Fe": 0.7, "Ga": 0.2, "Pd": 0.1}))
    send(store.path, ControlRequest(command="inject", condition={"Fe": 0.1, "Ga": 0.8, "Pd": 0.1}))  # outside

    def pause_after_two(progress) -> None:
        if len(progress.state.observations) == 2:
            send(store.path, ControlRequest(command="pause", note="checking the target"))

    state = loop_of(store).run(on_progress=pause_after_two)
    assert state.status == "paused" and "checking the target" in state.pause_reason
    first = state.observations[0]
    assert first.proposal_id.startswith("m0001") and first.condition == {"Fe": 0.7, "Ga": 0.2, "Pd": 0.1}
    assert state.proposals[first.proposal_id].proposal.reason == "manual"
    controlled = [e for e in store.log.read() if type(e).__name__ == "Controlled"]
    assert [(c.command, c.outcome) for c in controlled] == [
        ("inject", "queued"),
        ("inject", "refused"),
        ("pause", "done"),
    ]
    assert "not in the design space" in controlled[1].message
    assert not list((store.path / "control").glob("*.json"))  # every request taken

    def stop_after_one_more(progress) -> None:
        send(store.path, ControlRequest(command="stop"))

    state = loop_of(CampaignStore.open(store.path)).run(on_progress=stop_after_one_more)
    assert state.status == "stopped" and len(state.observations) == 3 and "by a person" in state.finish_reason
    assert first_difference(store.spec(), list(store.log.read())) is None


def test_the_control_command_checks_what_it_sends(short_campaign, write_campaign, junkan, tmp_path):
    store = tmp_path / "store"
    assert junkan("run", write_campaign({**short_campaign, "budget": 2}), "--store", store).exit_code == 0
    result = junkan("control", store, "pause")
    assert result.exit_code == 2 and "'finished'" in result.output
    fresh = new_store(short_campaign, tmp_path / "fresh", budget=2)
    result = junkan("control", fresh.path, "dance")
    assert result.exit_code == 2 and "'pause'" in result.output
    result = junkan("control", fresh.path, "inject", "--condition", "Fe=0.5,Ga=0.5")
    assert result.exit_code == 2 and "exactly ['Fe', 'Ga', 'Pd']" in result.output
    result = junkan("control", fresh.path, "approve", "--queue")
    assert result.exit_code == 2 and "proposal id" in result.output
    # no process runs it: refused, as the dashboard's API refuses it (409), unless queued for `resume`
    result = junkan("control", fresh.path, "pause")
    assert result.exit_code == 2 and "no process is running this campaign" in result.output
    assert "--queue" in result.output
    # outside the design space (Fe <= 0.95, Pd <= 0.3): refused now, as the API refuses it (422)
    result = junkan("control", fresh.path, "inject", "--condition", "Fe=0.1,Ga=0.5,Pd=0.4", "--queue")
    assert result.exit_code == 2 and "not in the design space" in result.output
    assert not (fresh.path / "control").exists() or not list((fresh.path / "control").glob("*.json"))
    result = junkan(
        "control", fresh.path, "inject", "--condition", "Fe=0.6,Ga=0.3,Pd=0.1", "--note", "a hunch", "--queue"
    )
    assert result.exit_code == 0 and "`junkan resume` takes it" in result.output
    assert len(list((fresh.path / "control").glob("*.json"))) == 1
