"""Outcome functions against cases computed by hand."""

import numpy as np
import pytest

from simsolidarity.model import outcomes as o


def test_bimodality_of_a_uniform_sample_is_five_ninths():
    # BC of the uniform distribution is 5/9; with 200,000 draws the sampling error of BC is below 0.002.
    sample = np.random.default_rng(0).uniform(-1, 1, 200_000)
    assert o.bimodality(sample) == pytest.approx(5 / 9, abs=0.005)


def test_bimodality_of_a_two_point_split_is_one_and_of_a_normal_is_one_third():
    # Two equal point masses: skewness 0, excess kurtosis -2, so BC -> 1/(-2 + 3) = 1.
    split = np.r_[np.full(5000, -1.0), np.full(5000, 1.0)]
    assert o.bimodality(split) == pytest.approx(1.0, abs=1e-3)
    normal = np.random.default_rng(1).normal(0, 0.2, 200_000)
    assert o.bimodality(normal) == pytest.approx(1 / 3, abs=0.005)


def test_bimodality_corrects_skewness_and_kurtosis_as_scipy_does():
    """Catches: a slip in the bias corrections of the hand-written moments (against scipy.stats)."""
    from scipy import stats

    rng = np.random.default_rng(5)
    for sample in (rng.uniform(-1, 1, 7), rng.beta(0.5, 2.0, 300) * 2 - 1, rng.normal(0.3, 0.2, 4)):
        n = sample.size
        g = stats.skew(sample, bias=False)
        k = stats.kurtosis(sample, fisher=True, bias=False)
        expected = (g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
        assert o.bimodality(sample) == pytest.approx(expected, rel=1e-12)


def test_bimodality_is_undefined_at_consensus():
    assert np.isnan(o.bimodality(np.full(100, 0.3)))


def test_esteban_ray_point_mass_is_zero_and_extreme_split_is_one():
    assert o.esteban_ray(np.full(1000, 0.37)) == 0.0
    assert o.esteban_ray(np.r_[np.full(500, -1.0), np.full(500, 1.0)]) == pytest.approx(1.0)


def test_esteban_ray_by_hand_for_two_near_bins():
    # Shares 1/2 in the bins centred at -0.05 and +0.05 (distance 0.1); alpha 1.6.
    x = np.r_[np.full(10, -0.01), np.full(10, 0.01)]
    raw = 2 * 0.5**2.6 * 0.5 * 0.1
    assert o.esteban_ray(x) == pytest.approx(raw / (2 * 0.5**3.6 * 1.9))


def test_esteban_ray_grows_as_two_camps_move_apart():
    near = o.esteban_ray(np.r_[np.full(50, -0.2), np.full(50, 0.2)])
    far = o.esteban_ray(np.r_[np.full(50, -0.8), np.full(50, 0.8)])
    assert 0 < near < far < 1


def test_opinion_clusters_counts_major_clusters_only():
    x = np.r_[np.full(300, -0.6), np.full(300, 0.0) + np.linspace(0, 0.04, 300), np.full(400, 0.7), [0.95]]
    # Three major clusters; the lone person at 0.95 is a minor cluster (< 1% of 1001).
    assert o.opinion_clusters(x) == 3
    assert o.opinion_clusters(x, major_share=0.0) == 4


def test_echo_chamber_index_is_the_correlation_over_the_exposed():
    x = np.array([-0.9, -0.5, 0.1, 0.6, 0.9, 0.0])
    exposure = np.array([-0.8, -0.4, 0.0, 0.5, 0.7, np.nan])
    assert o.echo_chamber_index(x, exposure) == pytest.approx(np.corrcoef(x[:5], exposure[:5])[0, 1])
    assert o.echo_chamber_index(x, 2 * x) == pytest.approx(1.0)
    assert np.isnan(o.echo_chamber_index(x, np.full(6, np.nan)))


def test_exposure_diversity_ignores_people_without_exposure():
    assert o.exposure_diversity(np.array([0.2, np.nan, 0.4])) == pytest.approx(0.3)


def test_support_measures_average_over_people_in_need():
    need = np.array([True, True, False, True])
    support = np.array([0.9, 0.2, 0.0, 0.5])
    assert o.support_received(need, support) == pytest.approx(1.6 / 3)
    assert o.unmet_need_share(need, support, depth_need=0.5) == pytest.approx(1 / 3)
    assert np.isnan(o.support_received(np.zeros(4, bool), support))


def test_most_isolated_quartile_takes_the_top_quarter():
    isolation = np.array([0.1, 0.9, 0.5, 0.95, 0.2, 0.3, 0.8, 0.0])
    assert np.flatnonzero(o.most_isolated_quartile(isolation)).tolist() == [1, 3]


def test_gini_of_group_sizes():
    assert o.gini(np.array([5, 5, 5, 5])) == 0.0
    assert o.gini(np.array([0, 0, 0, 12])) == pytest.approx(3 / 4)  # (n - 1) / n when one holds all
    assert o.gini(np.array([1, 2, 3])) == pytest.approx(2 / 9)


def test_group_sizes_and_opinion_spread():
    memberships = np.array([[0, 1], [0, -1], [1, -1], [2, -1]])
    opinion = np.array([0.5, -0.5, 0.1, 0.9])
    assert o.group_sizes(memberships, 4).tolist() == [2, 2, 1, 0]
    assert o.active_virtual_groups(o.group_sizes(memberships, 4)) == 2
    # group 0: {0.5, -0.5} std 0.5; group 1: {0.5, 0.1} std 0.2; group 2 has one member and is left out
    assert o.group_opinion_spread(memberships, opinion, 4) == pytest.approx(0.35)


def test_tie_measures():
    assert o.mean_tie_distance(np.array([5.0, 1.0])) == pytest.approx(3.0)
    assert o.share_ties_online(np.array([True, False, False, False])) == 0.25
    assert np.isnan(o.mean_tie_distance(np.empty(0)))
