"""Errors a world raises for input it cannot honour."""


class WorldInputError(ValueError):
    """A request a simulated world cannot honour; the message names the value and what is valid."""
