"""Fault rules: injected device, reducer and policy faults are retried, skipped or paused as the
campaign file says, and a rehearsal with 10 % faults of each kind completes its budget."""

import copy
import math

import numpy as np
import pytest
import yaml

from orchestrator.campaign import parse_campaign
from orchestrator.event_log import EventLog
from orchestrator.local_executor import LocalExecutor
from orchestrator.loop import CampaignLoop
from orchestrator.replay import first_difference
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy

RULES = {
    "device": {"action": "retry", "max_attempts": 3, "backoff_s": 0.0, "then": "skip"},
    "reducer": {"action": "retry", "max_attempts": 2, "backoff_s": 0.0, "then": "skip"},
    "policy": {"action": "skip"},
}


class FlakyPolicy:
    """A policy whose ask and tell raise on a seeded tenth of calls (the model crashing)."""

    def __init__(self, policy, rate: float, seed: int) -> None:
        self.policy = policy
        self.rng = np.random.default_rng(seed)
        self.rate = rate
        self.raised = {"ask": 0, "tell": 0}

    def _maybe_raise(self, what: str) -> None:
        if self.rng.random() < self.rate:
            self.raised[what] += 1
            raise RuntimeError(f"injected {what} failure")

    def ask(self, n, pending=()):
        self._maybe_raise("ask")
        return self.policy.ask(n, pending)

    def tell(self, observations):
        self._maybe_raise("tell")
        return self.policy.tell(observations)

    def state_dict(self):
        return self.policy.state_dict()

    def load_state_dict(self, state):
        self.policy.load_state_dict(state)


def campaign_store(short_campaign, tmp_path, budget: int, faults: dict, inject: dict) -> CampaignStore:
    campaign = copy.deepcopy(short_campaign)
    campaign.update(budget=budget, faults=faults)
    campaign["instrument"]["inject_faults"] = inject
    text = yaml.safe_dump(campaign, sort_keys=False)
    return CampaignStore.create(tmp_path / "store", parse_campaign(text, "campaign.yaml"), text)


@pytest.mark.integration
def test_a_rehearsal_with_ten_percent_faults_of_each_kind_completes_its_budget(short_campaign, tmp_path):
    inject = {"timeout": 0.1, "disconnect": 0.1, "nan": 0.1, "saturate": 0.1}
    store = campaign_store(short_campaign, tmp_path, 12, RULES, inject)
    spec = store.spec()
    instrument = build_instrument(spec, spec.seed)
    policy = FlakyPolicy(build_policy(spec, spec.seed), rate=0.1, seed=5)
    state = CampaignLoop(store, policy, instrument, LocalExecutor(instrument), spec.seed).run()

    assert state.status == "finished" and len(state.observations) == 12
    assert all(math.isfinite(v) for o in state.observations for v in o.values.values())
    kinds = {(f.kind, f.action) for f in state.faults}
    assert {"device", "reducer", "policy"} <= {kind for kind, _ in kinds}, kinds
    messages = " ".join(f.message for f in state.faults)
    for needle in ("no answer within", "lost its connection", "non-finite result", "at 2.14748e+09"):
        assert needle in messages, needle
    assert sum(policy.raised.values()) >= 1
    # a retried condition is the same proposal measured again; a skipped one is never observed
    observed = {o.proposal_id for o in state.observations}
    assert not observed & set(state.skipped)
    retried = [f for f in state.faults if f.action == "retry"]
    assert retried and all(f.proposal_id in observed | set(state.skipped) for f in retried)
    # policy faults on ask fell back to space-filling conditions, numbered apart
    fallbacks = [p for p in state.proposals.values() if p.proposal.generator == "fallback-sobol"]
    assert len(fallbacks) == policy.raised["ask"]
    for p in fallbacks:
        x = np.array([p.proposal.condition[e] for e in spec.elements])
        assert spec.space.simplex().contains(x)[0]


def test_a_pause_rule_stops_for_a_person_and_resume_measures_the_condition_again(
    short_campaign, write_campaign, junkan, tmp_path
):
    campaign = copy.deepcopy(short_campaign)
    campaign.update(budget=4, faults={"device": {"action": "pause"}})
    campaign["instrument"]["world"] = "tests.orchestrator.faulty_world:build"  # times out on call 3
    store = tmp_path / "store"
    result = junkan("run", write_campaign(campaign), "--store", store)
    assert result.exit_code == 3, result.output
    assert "paused" in result.output and "junkan resume" in result.output
    events = list(EventLog(store / "events.jsonl").read())
    assert type(events[-1]).__name__ == "Paused"
    (fault,) = [e for e in events if type(e).__name__ == "Faulted"]
    assert fault.action == "pause" and fault.proposal_id == "p0003"

    result = junkan("resume", store)  # a new world: its third call (past the budget) would time out
    assert result.exit_code == 0, result.output
    events = list(EventLog(store / "events.jsonl").read())
    observations = [e.observation for e in events if type(e).__name__ == "Observed"]
    assert [o.proposal_id for o in observations] == ["p0001", "p0002", "p0003", "p0004"]
    (resumed,) = [e for e in events if type(e).__name__ == "Resumed"]
    assert resumed.reconciled == {"p0003": "re-submitted"}
    assert first_difference(parse_campaign((store / "campaign.yaml").read_text(), "c"), events) is None


def test_without_rules_a_fault_still_fails_the_campaign_and_max_faults_caps_retries(short_campaign, tmp_path):
    rules = {"device": {"action": "retry", "max_attempts": 100, "backoff_s": 0.0}, "max_faults": 4}
    store = campaign_store(short_campaign, tmp_path, 6, rules, {"timeout": 1.0})
    spec = store.spec()
    instrument = build_instrument(spec, spec.seed)
    state = CampaignLoop(store, build_policy(spec, spec.seed), instrument, LocalExecutor(instrument), 0).run()
    assert state.status == "failed" and "max_faults = 4" in state.finish_reason
    assert [f.action for f in state.faults] == ["retry"] * 4 + ["fail"]


def test_bad_fault_rules_and_injection_rates_are_refused_with_the_valid_choices(
    short_campaign, write_campaign, junkan
):
    campaign = copy.deepcopy(short_campaign)
    campaign["faults"] = {"device": {"action": "reboot"}}
    result = junkan("validate", write_campaign(campaign))
    assert result.exit_code == 2 and "faults.device.action" in result.output and "'retry'" in result.output
    campaign = copy.deepcopy(short_campaign)
    campaign["instrument"]["inject_faults"] = {"gremlins": 0.1}
    result = junkan("validate", write_campaign(campaign))
    assert result.exit_code == 2 and "gremlins" in result.output and "timeout" in result.output
