"""A campaign's health in Prometheus text format, for a facility's own dashboards (Grafana...)."""

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from orchestrator.dashboard.log_view import LogFollower
from orchestrator.state import ShownStatus, shown_status

STATUSES: tuple[ShownStatus, ...] = (
    "created",
    "running",
    "paused",
    "finished",
    "failed",
    "stopped",
    "interrupted",
)
FAULT_KINDS = ("device", "reducer", "policy", "executor")


class CampaignCollector(Collector):
    """Reads the followed log at scrape time: nothing is kept twice."""

    def __init__(self, follower: LogFollower, live: Callable[[], bool]) -> None:
        self.follower = follower
        self.live = live

    def collect(self) -> Iterator[Metric]:
        state = self.follower.refresh().state
        campaign = state.campaign or self.follower.spec.name
        labels = ["campaign"]

        observations = CounterMetricFamily(
            "junkan_observations", "Measurements recorded in the event log", labels=labels
        )
        observations.add_metric([campaign], len(state.observations))
        yield observations

        budget = GaugeMetricFamily("junkan_budget", "Measurements the campaign may make", labels=labels)
        budget.add_metric([campaign], state.budget)
        yield budget

        faults = CounterMetricFamily("junkan_faults", "Faults recorded, by kind", labels=[*labels, "kind"])
        for kind in FAULT_KINDS:
            faults.add_metric([campaign, kind], sum(1 for f in state.faults if f.kind == kind))
        yield faults

        decisions = SummaryMetricFamily(
            "junkan_decision_seconds", "Time the policy took to choose each condition", labels=labels
        )
        decisions.add_metric([campaign], len(state.decision_seconds), sum(state.decision_seconds))
        yield decisions

        last = GaugeMetricFamily(
            "junkan_last_decision_seconds", "Time the policy took for its latest choice", labels=labels
        )
        if state.decision_seconds:
            last.add_metric([campaign], state.decision_seconds[-1])
        yield last

        duty = GaugeMetricFamily(
            "junkan_duty_cycle",
            "Instrument busy time over wall time since the campaign started",
            labels=labels,
        )
        if state.duty_cycle is not None:
            duty.add_metric([campaign], state.duty_cycle)
        yield duty

        counted = CounterMetricFamily(
            "junkan_warnings",
            "Numerical warnings of the model stack (in the store's warnings.log), by category",
            labels=[*labels, "category"],
        )
        for category, n in sorted(state.warnings.items()):
            counted.add_metric([campaign, category], n)
        yield counted

        pending = GaugeMetricFamily("junkan_pending_proposals", "Proposals not yet measured", labels=labels)
        pending.add_metric([campaign], len(state.pending))
        yield pending

        status = GaugeMetricFamily(
            "junkan_campaign_status", "1 for the campaign's current state", labels=[*labels, "status"]
        )
        running = self.live()
        shown = shown_status(state.status, running)
        for name in STATUSES:
            status.add_metric([campaign, name], 1.0 if shown == name else 0.0)
        yield status

        live = GaugeMetricFamily(
            "junkan_process_live", "1 while a live process is running the campaign", labels=labels
        )
        live.add_metric([campaign], 1.0 if running else 0.0)
        yield live


def metrics_registry(follower: LogFollower, live: Callable[[], bool]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CampaignCollector(follower, live))
    return registry


def metrics_text(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
