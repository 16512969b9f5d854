"""Campaign scores, one definition for pool replay, benchmarks and the dashboard."""

import math

import numpy as np
import pytest

from orchestrator.campaign_scores import (
    acceleration_factor,
    enhancement_factor,
    found_curve,
    found_fraction,
    paired_outcomes,
    progress,
    sign_test_p,
    top_set,
)


def test_progress_is_the_best_so_far_or_the_hypervolume_measured():
    np.testing.assert_array_equal(progress(np.array([[1.0], [3.0], [2.0], [5.0]])), [1, 3, 3, 5])
    front = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.9, 0.9]])
    curve = progress(front, np.array([0.0, 0.0]))
    # 0 (a point on the reference's edge), 0, the 0.5 x 0.5 square, then the 0.9 x 0.9 square
    np.testing.assert_allclose(curve, [0.0, 0.0, 0.25, 0.81])
    assert progress(np.zeros((0, 1))).size == 0


def test_the_top_set_keeps_ties_and_whole_fronts():
    values = np.arange(40.0).reshape(-1, 1)  # ceil(5 % of 40) = 2
    assert np.flatnonzero(top_set(values)).tolist() == [38, 39]
    tied = np.array([[1.0]] * 3 + [[0.0]] * 37)  # three equal best: all in
    assert top_set(tied).sum() == 3
    two = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]] + [[0.1, 0.1]] * 37)  # one front of 3
    assert np.flatnonzero(top_set(two)).tolist() == [0, 1, 2]


def test_found_fraction_af_and_ef():
    top = np.array([True, True, False, False])
    assert found_fraction([0, 2, 2, 3], top) == 0.5
    assert acceleration_factor(30.0, 10.0) == 3.0
    assert enhancement_factor(0.6, 0.2) == pytest.approx(3.0)
    assert enhancement_factor(0.6, 0.0) is None


def test_the_found_curve_counts_each_top_condition_once_when_first_measured():
    top = np.array([True, True, False, False])
    # condition 0 measured twice counts once; its end equals found_fraction over the whole run
    curve = found_curve([2, 0, 0, 3, 1], top)
    np.testing.assert_allclose(curve, [0.0, 0.5, 0.5, 0.5, 1.0])
    assert curve[-1] == found_fraction([2, 0, 0, 3, 1], top)
    assert found_curve([], top).size == 0


def test_paired_outcomes_count_wins_losses_and_ties_within_rounding():
    ours = np.array([0.9, 0.5, 0.7, 0.979, 1.0])
    theirs = np.array([0.8, 0.6, 0.7, 0.979 * (1 + 1e-12), 0.99])
    assert paired_outcomes(ours, theirs) == [2, 1, 2]  # a difference in the last digits is a tie


def test_the_sign_test_says_how_unlikely_so_few_wins_are_if_neither_side_were_better():
    assert sign_test_p(0, 5) == pytest.approx(1 / 32)  # five losses in five fair coin tosses
    assert sign_test_p(6, 14) == pytest.approx(sum(math.comb(20, k) for k in range(7)) / 2**20)
    assert sign_test_p(6, 14) > 0.05 > sign_test_p(5, 15)  # 6 of 20 can be luck, 5 of 20 hardly
    assert sign_test_p(10, 10) > 0.5 and sign_test_p(14, 6) > 0.9  # level or ahead: no lead of theirs
    assert sign_test_p(0, 0) == 1.0  # all tied: nothing to say
