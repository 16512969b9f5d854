"""Abilities a policy may have beyond asking and telling, as runtime-checkable protocols the loop and
replay check with isinstance (not getattr).

They belong in `policies/policy.py`, beside the `Policy` protocol: they live here only until the
next change to `policies/` (whose every file a benchmark fingerprint covers) moves them there.
"""

from typing import Protocol, runtime_checkable

from policies import CandidateSet


@runtime_checkable
class TakesCandidates(Protocol):
    """Weighs measuring existing samples (a library's unmeasured spots, a table's conditions)
    against making new ones: told, before each decision, which candidates there are."""

    def set_candidates(self, candidates: CandidateSet) -> None: ...
