"""Each recommender does what it exists for, over paired seeds, with a 95% CI that excludes 0."""

from functools import cache

import numpy as np
import pytest

from simsolidarity import RECOMMENDERS, SolidarityModel
from simsolidarity.model.recommenders import mix, register_recommender

from .conftest import SMALL, paired_ci

STEPS = 40
SEEDS = range(30)


@cache  # the same run serves several contrasts
def settled(recommender: str, outcome: str, seed: int, **params) -> float:
    """Mean of ``outcome`` over the last 10 of 40 steps: past the transient of the first joins."""
    model = SolidarityModel({**SMALL, **params}, recommender=recommender, rng=seed)
    for _ in range(STEPS):
        model.step()
    return model.datacollector.get_model_vars_dataframe()[outcome].iloc[-10:].mean()


def contrast(first: str, second: str, outcome: str, **params) -> tuple[float, float]:
    """95% CI of ``outcome`` under ``first`` minus under ``second``; the same seed gives the same people."""
    a = [settled(first, outcome, seed, **params) for seed in SEEDS]
    b = [settled(second, outcome, seed, **params) for seed in SEEDS]
    return paired_ci(a, b)


def test_every_built_in_recommender_is_registered():
    assert {"random", "similarity", "popularity", "bridging", "local", "hybrid"} <= set(RECOMMENDERS)


def test_popularity_makes_group_sizes_more_unequal_than_random():
    low, _ = contrast("popularity", "random", "group_size_gini")
    assert low > 0


def test_local_makes_co_members_closer_on_the_grid_than_random():
    _, high = contrast("local", "random", "mean_tie_distance")
    assert high < 0


# Opinion-driven recommendation (homophily 1) against bridging at diversity_weight 0.5; hybrid
# mixes the two half and half.
OPINION_SETTING = {"homophily": 1.0, "diversity_weight": 0.5}


def test_bridging_raises_exposure_diversity_over_similarity():
    low, _ = contrast("bridging", "similarity", "exposure_diversity", **OPINION_SETTING)
    assert low > 0


def test_hybrid_lies_between_its_parts():
    low, _ = contrast("hybrid", "similarity", "exposure_diversity", **OPINION_SETTING)
    assert low > 0
    low, _ = contrast("bridging", "hybrid", "exposure_diversity", **OPINION_SETTING)
    assert low > 0


def test_scores_are_what_the_docstrings_say():
    model = SolidarityModel(SMALL, rng=5)
    for _ in range(5):
        model.step()
    people = np.arange(50)
    h, w = model.parameters["homophily"], model.parameters["diversity_weight"]
    similarity = RECOMMENDERS["similarity"](model, people)
    bridging = RECOMMENDERS["bridging"](model, people)
    assert similarity.shape == (50, model.n_virtual_groups)
    assert np.allclose(
        similarity, (1 - h) * model.interest_similarity(people) + h * model.opinion_similarity(people)
    )
    assert np.allclose(RECOMMENDERS["hybrid"](model, people), (1 - w) * similarity + w * bridging)
    popularity = RECOMMENDERS["popularity"](model, people)
    assert np.allclose(popularity[0], model.group_size / model.group_size.max())
    local = RECOMMENDERS["local"](model, people)
    for person in people[:10]:  # share of each group's members living in the person's block
        same_block = model.block == model.block[person]
        for group in range(model.n_virtual_groups):
            members = np.any(model.memberships == group, axis=1)
            expected = np.count_nonzero(members & same_block) / max(np.count_nonzero(members), 1)
            assert local[person, group] == pytest.approx(expected)


def test_a_users_mix_of_registered_recommenders_runs_by_name():
    register_recommender("mostly_popular")(mix({"popularity": 0.8, "random": 0.2}))
    try:
        gini_mix = np.mean([settled("mostly_popular", "group_size_gini", seed) for seed in range(5)])
    finally:
        del RECOMMENDERS["mostly_popular"]
    gini_random = np.mean([settled("random", "group_size_gini", seed) for seed in range(5)])
    assert gini_mix > gini_random + 0.2
