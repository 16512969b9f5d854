"""What a plan is asked to do, checked before anything moves: a request from a queue server's user
(or a hand-written inject) reaches the hardware unchecked otherwise, and a composition off the
simplex would set gun powers before any device could object."""

import math
from collections.abc import Mapping, Sequence

SIMPLEX_TOLERANCE = 1e-6  # as the design space's and the worlds' own
MAX_COUNT_TIME_S = 3600.0  # one count longer than an hour is a typo, not a measurement
MAX_GUN_POWER_W = 250.0  # a 2-inch magnetron's usual DC rating
MAX_DEPOSITION_S = 86_400.0
MAX_HEATER_C = 1000.0


class InvalidRequest(ValueError):
    """A plan's request that no instrument should try: the message names the value and what is valid."""


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"{name} = {value!r} is not a number")
    if not math.isfinite(value):
        raise InvalidRequest(f"{name} = {value} is not a finite number")
    return float(value)


def checked_composition(composition: object, elements: Sequence[str]) -> dict[str, float]:
    """The composition as fractions of exactly `elements`, each in [0, 1], summing to 1."""
    known = ", ".join(elements)
    if not isinstance(composition, Mapping):
        raise InvalidRequest(f"composition {composition!r} is not a mapping of element to atomic fraction")
    unknown = [str(e) for e in composition if e not in elements]
    if unknown:
        raise InvalidRequest(
            f"composition {dict(composition)} names {', '.join(map(repr, unknown))}: "
            f"not an element of this instrument ({known})"
        )
    missing = [e for e in elements if e not in composition]
    if missing:
        raise InvalidRequest(
            f"composition {dict(composition)} gives no fraction for {', '.join(missing)} "
            f"(give every element of {known})"
        )
    fractions = {e: _number(f"the fraction of {e}", composition[e]) for e in elements}
    outside = {e: f for e, f in fractions.items() if not -SIMPLEX_TOLERANCE <= f <= 1 + SIMPLEX_TOLERANCE}
    if outside:
        element, fraction = next(iter(outside.items()))
        raise InvalidRequest(
            f"composition {fractions}: the fraction of {element} is {fraction:g}; "
            "atomic fractions are in [0, 1]"
        )
    total = sum(fractions.values())
    if abs(total - 1.0) > SIMPLEX_TOLERANCE:
        raise InvalidRequest(f"composition {fractions} sums to {total:.6g}; atomic fractions sum to 1")
    return fractions


def checked_count_time(name: str, value: object, most_s: float = MAX_COUNT_TIME_S) -> float:
    """A count time in (0, most_s] seconds."""
    seconds = _number(name, value)
    if not 0.0 < seconds <= most_s:
        raise InvalidRequest(f"{name} = {seconds:g} s; a count time is above 0 and at most {most_s:g} s")
    return seconds


def checked_within(name: str, value: object, lowest: float, highest: float, units: str) -> float:
    """A setpoint in [lowest, highest]."""
    number = _number(name, value)
    if not lowest <= number <= highest:
        raise InvalidRequest(f"{name} = {number:g} {units}; valid: {lowest:g} to {highest:g} {units}")
    return number


def checked_powers(
    powers_w: Mapping[str, object], elements: Sequence[str], most_w: float
) -> dict[str, float]:
    """Gun powers of known guns, each in [0, most_w] watts, at least one above 0."""
    unknown = [str(e) for e in powers_w if e not in elements]
    if unknown:
        raise InvalidRequest(f"no gun for {', '.join(unknown)}; the sputter system has {', '.join(elements)}")
    checked = {e: _number(f"the power of the {e} gun", p) for e, p in powers_w.items()}
    for element, power in checked.items():
        checked_within(f"the power of the {element} gun", power, 0.0, most_w, "W")
    if not any(p > 0 for p in checked.values()):
        raise InvalidRequest(f"gun powers {checked}: at least one gun must be on to deposit")
    return checked
