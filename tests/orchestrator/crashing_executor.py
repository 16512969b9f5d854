"""An executor whose process 'dies' between a finished plan and its recorded observation."""

from orchestrator.local_executor import LocalExecutor


class CrashAfterRun(BaseException):
    """The process dying between a finished plan and its recorded observation."""


class CrashingExecutor(LocalExecutor):
    def __init__(self, instrument, crash_on_run: int) -> None:
        super().__init__(instrument)
        self.crash_on_run = crash_on_run
        self.runs = 0

    def run(self, request, on_document):
        self.runs += 1
        outcome = super().run(request, on_document)
        if self.runs == self.crash_on_run:
            raise CrashAfterRun
        return outcome
