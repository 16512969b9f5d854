"""Pipelining: the next condition is decided while the instrument measures, with the conditions in
flight as pending points; one measurement at a time; the log replays exactly."""

import copy

import yaml

from orchestrator.best import campaign_best
from orchestrator.campaign import parse_campaign
from orchestrator.local_executor import LocalExecutor
from orchestrator.loop import CampaignLoop
from orchestrator.replay import first_difference
from orchestrator.status_report import summary_lines
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy


def test_decisions_overlap_measurements_and_the_instrument_runs_one_at_a_time(short_campaign, tmp_path):
    campaign = copy.deepcopy(short_campaign)
    campaign.update(budget=7, queue_depth=2)
    campaign["instrument"].update(realtime=True, count_time_s=0.3)  # a measurement takes time
    text = yaml.safe_dump(campaign, sort_keys=False)
    store = CampaignStore.create(tmp_path / "store", parse_campaign(text, "campaign.yaml"), text)
    spec = store.spec()
    instrument = build_instrument(spec, spec.seed)
    state = CampaignLoop(store, build_policy(spec, spec.seed), instrument, LocalExecutor(instrument), 0).run()
    assert state.status == "finished" and len(state.observations) == 7
    assert len(state.proposals) == 7  # never decided beyond the budget

    events = list(store.log.read())
    kinds = [(type(e).__name__, getattr(e, "proposal_id", None)) for e in events]
    # decided ahead: a proposal is made while the one before it is still being measured
    ahead = 0
    for k in range(2, 8):
        proposed_at = next(
            i
            for i, e in enumerate(events)
            if type(e).__name__ == "Proposed" and e.proposal.proposal_id == f"p{k:04d}"
        )
        observed_before = next(
            i
            for i, e in enumerate(events)
            if type(e).__name__ == "Observed" and e.observation.proposal_id == f"p{k - 1:04d}"
        )
        ahead += proposed_at < observed_before
    assert ahead >= 4, kinds
    # one run at a time: every RunStarted is followed by its own RunFinished before the next starts
    runs = [(name, pid) for name, pid in kinds if name in ("RunStarted", "RunFinished")]
    assert all(
        runs[i][0] == "RunStarted" and runs[i + 1] == ("RunFinished", runs[i][1])
        for i in range(0, len(runs), 2)
    )
    # in-flight conditions were pending: no condition is proposed twice
    conditions = [tuple(p.proposal.condition.values()) for p in state.proposals.values()]
    assert len(set(conditions)) == 7
    assert state.duty_cycle is not None and 0 < state.duty_cycle <= 1
    # the instrument takes real time here, so its duty cycle is reported as a number
    best = campaign_best(spec, state)
    (duty,) = [line for line in summary_lines(state, best, store.path) if line.startswith("duty cycle")]
    assert spec.instrument.real_time and f"{state.duty_cycle:.2f} (instrument busy / wall time)" in duty
    assert first_difference(spec, events) is None
