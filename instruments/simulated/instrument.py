"""A whole simulated instrument: synthesis and one counter per objective over a named world."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bluesky.utils import MsgGenerator
from ophyd_async.core import Device

from instruments.plans.make_and_count import make_and_count
from instruments.reduction.reducer import CountingReducer, Document, Reduction
from instruments.simulated.bench import SimulatedBench
from instruments.simulated.counter import SimulatedCounter
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.synthesis import SimulatedSynthesis
from simulators import CompositionSpreadWorld, load_world


@dataclass(frozen=True)
class InstrumentDescription:
    """What an instrument can make and measure, for checking a campaign before it runs."""

    elements: tuple[str, ...]
    quantity_units: Mapping[str, str]
    deposits: bool  # can deposit libraries, diffract and absorb (a composition-spread world)
    phases: tuple[str, ...] = ()


def describe_simulated_world(world: str) -> InstrumentDescription:
    """Elements and measurable quantities of a world, by name or import path."""
    loaded = load_world(world, seed=0)
    return InstrumentDescription(
        elements=tuple(loaded.elements),
        quantity_units={name: q.units for name, q in loaded.quantities.items()},
        deposits=isinstance(loaded, CompositionSpreadWorld),
        phases=tuple(loaded.phase_names) if isinstance(loaded, CompositionSpreadWorld) else (),
    )


class SimulatedInstrument:
    """Makes films in a simulated world and counts each objective on them."""

    def __init__(
        self,
        world: str,
        objectives: Sequence[str],
        seed: int,
        fault_rates: Mapping[str, float] | None = None,
        realtime: bool = False,
    ) -> None:
        self.world = load_world(world, seed=seed)
        unknown = [o for o in objectives if o not in self.world.quantities]
        if unknown:
            raise ValueError(
                f"world {world!r} cannot measure {unknown}; it measures {sorted(self.world.quantities)}"
            )
        self.quantity_units = {o: self.world.quantities[o].units for o in objectives}
        bench = SimulatedBench(self.world)
        self.synthesis = SimulatedSynthesis(bench, self.world.elements, name="synthesis")
        self.counters = {
            objective: SimulatedCounter(
                self.world,
                objective,
                lambda: (bench.sample, None),
                name=f"counter_{objective}",
                faults=FaultInjector(dict(fault_rates), seed=seed * 7919 + i) if fault_rates else None,
                realtime=realtime,
            )
            for i, objective in enumerate(objectives)
        }
        self.reducers = [
            CountingReducer(detector=counter.name, objective=objective)
            for objective, counter in self.counters.items()
        ]

    @property
    def devices(self) -> list[Device]:
        return [self.synthesis, *self.counters.values()]

    def plan(
        self,
        condition: Mapping[str, float],
        measurement: Mapping[str, float],
        md: Mapping[str, Any],
    ) -> MsgGenerator[None]:
        return make_and_count(
            self.synthesis,
            list(self.counters.values()),
            condition,
            count_time_s=measurement.get("count_time_s"),  # type: ignore[arg-type]  # checked by the plan
            md=md,
        )

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        parts = [reducer.reduce(documents) for reducer in self.reducers]
        return Reduction(
            run_uid=parts[0].run_uid,
            values={k: v for p in parts for k, v in p.values.items()},
            variances={k: v for p in parts for k, v in p.variances.items()},
        )
