"""What a step of the loop ended with when it did not end with an observation."""


class StepOutcome:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SKIPPED = StepOutcome("skipped")  # a fault rule gave up on the condition; the campaign goes on
STOPPED = StepOutcome("stopped")  # the campaign paused or failed
RESUMED = StepOutcome("resumed")  # a person resumed a campaign that was held paused
