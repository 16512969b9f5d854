"""Abilities the loop finds with isinstance are kept by the policies and executors that have them:
a renamed method would switch the ability off without an error."""

from orchestrator.execution import Interruptible
from orchestrator.local_executor import LocalExecutor
from policies import BayesianPolicy, TakesCandidates


def test_the_cost_aware_policy_takes_candidates():
    assert issubclass(BayesianPolicy, TakesCandidates)
    assert not isinstance(object(), TakesCandidates)


def test_the_in_process_executor_can_be_interrupted():
    assert issubclass(LocalExecutor, Interruptible)
    assert not isinstance(object(), Interruptible)
