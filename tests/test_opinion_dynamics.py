"""The model reduces to Deffuant–Weisbuch, and its recommenders make echo chambers."""

import math

import numpy as np
import pytest

from simsolidarity import SolidarityModel
from simsolidarity.model.outcomes import opinion_clusters

from .conftest import SMALL, paired_ci

#: Everything but bounded confidence switched off: one virtual group that everyone joins at the
#: first step (everyone online and active, any interest match accepted, one membership each), no
#: leaving (no two opinions on [-1, 1] are more than 2 apart), no need events, and no geography
#: (everyone fully isolated where they live: no local ties, no offline meetings). What remains is
#: a random perfect matching of all people each round, with the Deffuant–Weisbuch update.
DEFFUANT_WEISBUCH = {
    "n_people": 1000, "width": 32, "height": 32,
    "n_virtual_groups": 1, "online_share": 1.0, "online_activity": 1.0, "join_threshold": 0.0,
    "max_memberships": 1, "leave_threshold": 2.0, "need_rate": 0.0, "isolation_mean": 1.0,
    "influence": 0.5, "meetings_per_step": 10,
}


def converged_clusters(confidence: float, seed: int) -> int:
    model = SolidarityModel(DEFFUANT_WEISBUCH, confidence=confidence, rng=seed)
    for _ in range(300):  # 3,000 rounds; every setting here converges in under 100 steps
        before = model.opinion.copy()
        model.step()
        if np.abs(model.opinion - before).max() < 1e-6:
            return opinion_clusters(model.opinion)
    raise AssertionError(f"no convergence for confidence {confidence}, seed {seed}")


def test_the_reduction_pairs_everyone_every_round():
    model = SolidarityModel(DEFFUANT_WEISBUCH, confidence=0.4, rng=0)
    model.step()
    assert np.all(model.memberships[:, 0] == 0)
    assert len(model.local_ties) == 0 and not model.offline_present.any()
    # 10 rounds of a perfect matching of 1,000 people: 500 pairs each, all online.
    assert len(model.contact_pairs) == 10 * 500 and model.contact_online.all()


@pytest.mark.parametrize("confidence", [0.2, 0.4, 0.6])
def test_major_cluster_count_follows_the_one_over_epsilon_rule(confidence):
    # On [-1, 1] the rule floor(1 / (2d)) for opinions on [0, 1] becomes floor(1 / epsilon).
    # The rule is an approximation that single runs miss by one (a central or a split cluster),
    # so the mean of 20 seeds must lie within 0.6 of it and every run within 1.
    expected = math.floor(1 / confidence)
    counts = np.array([converged_clusters(confidence, seed) for seed in range(20)])
    assert abs(counts.mean() - expected) < 0.6, counts
    assert np.all(np.abs(counts - expected) <= 1), counts


def test_similarity_recommendation_builds_echo_chambers_that_random_does_not():
    # Same seed, same initial people and groups; only the recommender differs.
    def echo(recommender, seed):
        model = SolidarityModel({**SMALL, "homophily": 0.8}, recommender=recommender, rng=seed)
        for _ in range(40):
            model.step()
        frame = model.datacollector.get_model_vars_dataframe()
        return frame["echo_chamber_index"].iloc[-10:].mean()

    seeds = range(20)
    similarity = [echo("similarity", s) for s in seeds]
    random = [echo("random", s) for s in seeds]
    low, high = paired_ci(similarity, random)
    assert low > 0, (low, high)
