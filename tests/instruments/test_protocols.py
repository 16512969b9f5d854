"""The contracts of instruments.protocols are kept by what claims them: the loop finds an ability
with isinstance, so a renamed method would switch it off without an error."""

from instruments import SimulatedInstrument, ThinFilmInstrument, simulated_thin_film_instrument
from instruments.devices.counter import EpicsCounter
from instruments.protocols import (
    CountingDetector,
    HasCandidateSpots,
    Instrument,
    PlanningInstrument,
    RestoresFilms,
    Synthesis,
)
from instruments.recorded.pool_instrument import RecordedPoolInstrument


def test_instruments_with_samples_made_already_offer_them_as_candidates():
    assert issubclass(ThinFilmInstrument, HasCandidateSpots)
    assert issubclass(RecordedPoolInstrument, HasCandidateSpots)
    assert not isinstance(object(), HasCandidateSpots)


def test_counters_and_synthesis_keep_the_contracts_the_plans_are_typed_against():
    instrument = SimulatedInstrument("ternary-magnet", ["magnetization"], seed=0)
    assert isinstance(instrument.synthesis, Synthesis)
    assert all(isinstance(counter, CountingDetector) for counter in instrument.counters.values())
    assert isinstance(
        EpicsCounter("TEST:PROBE:MAGNETIZATION:", name="counter_magnetization"), CountingDetector
    )
    assert not isinstance(instrument.synthesis, CountingDetector)  # it has no count time


def test_a_simulated_thin_film_lab_rebuilds_films_from_the_record():
    instrument = simulated_thin_film_instrument("fe-co-ni-oxide", [], seed=0, settings={})
    assert isinstance(instrument.hardware.lab, RestoresFilms)


def test_every_instrument_plans_and_reduces_as_the_loop_and_the_executors_ask():
    instruments = [
        SimulatedInstrument("ternary-magnet", ["magnetization"], seed=0),
        simulated_thin_film_instrument("fe-co-ni-oxide", [], seed=0, settings={}),
    ]
    for instrument in instruments:
        assert isinstance(instrument, Instrument) and isinstance(instrument, PlanningInstrument)
