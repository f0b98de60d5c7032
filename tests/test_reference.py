"""The reference model follows the same rules as the vectorized model: the two agree in distribution.

The two draw their random numbers in different orders, so a seed gives different runs in each;
what must agree is the distribution of the outcomes over seeds.
"""

from functools import cache

import numpy as np
import pytest
from scipy import stats

from simsolidarity import OUTCOMES, ParameterError, SimsolidarityError, SolidarityModel
from simsolidarity.model.outcomes import opinion_clusters
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender
from simsolidarity.model.reference import REFERENCE_SCORES, ReferenceModel

#: Smaller than conftest's SMALL, so that 30 seeds of three settings in both implementations
#: (and 30 more of the reference) run in well under a minute; still 9 blocks, 8 virtual groups
#: and a few hundred local ties.
TINY = {"n_people": 150, "width": 15, "height": 15, "block_size": 5, "n_virtual_groups": 8}
STEPS = 50
SEEDS = 30
#: Model and reference runs take seeds from disjoint ranges: with the same seed both would draw
#: the same grid cells first, and the two samples would not be independent.
MODEL_SEEDS = range(SEEDS)
REFERENCE_SEEDS = range(1000, 1000 + SEEDS)
SETTINGS = ("random", "similarity", "bridging")
#: Polarization, echo chambers, support and belonging: one outcome of each family that the
#: settings' mechanisms drive.
COMPARED = ("esteban_ray", "echo_chamber_index", "support_received", "belonging")
#: Each (setting, outcome) is a Welch's t-test of the 30 reference runs against the 30 model runs
#: at step 50: the runs of different seeds are independent, the spread of an outcome over seeds
#: sets the tolerance, Welch does not assume the two spreads are equal, and means of 30 runs are
#: close to normal even where single runs are not (consensus or two camps). With 3 settings x 4
#: outcomes = 12 tests, Bonferroni's level 0.01 / 12 keeps the chance that two correct
#: implementations fail anywhere in this file at most 1% for a draw of seeds; the seeds are fixed,
#: so the verdict is deterministic. At this level and 30 seeds a side, a test sees a shift of the
#: mean by about 1.3 seed-to-seed standard deviations with 80% power: a check against rules that
#: are wrong, not against fine bias (for that, run the comparison with hundreds of seeds).
FAMILY_LEVEL = 0.01
LEVEL = FAMILY_LEVEL / (len(SETTINGS) * len(COMPARED))


@cache
def final_outcomes(implementation: str, recommender: str, seed: int, changes: tuple = ()) -> dict[str, float]:
    """The compared outcomes after ``STEPS`` steps of one run."""
    model_class = ReferenceModel if implementation == "reference" else SolidarityModel
    # Nothing recorded each step (outcomes=()): only the state at the last step is measured.
    model = model_class({**TINY, **dict(changes)}, recommender=recommender, rng=seed, outcomes=())
    for _ in range(STEPS):
        model.step()
    values = model.outcomes()
    return {name: values[name] for name in COMPARED}


def sample(implementation: str, recommender: str, changes: tuple = ()) -> dict[str, np.ndarray]:
    """Each compared outcome at step 50 over the implementation's seeds."""
    seeds = REFERENCE_SEEDS if implementation == "reference" else MODEL_SEEDS
    runs = [final_outcomes(implementation, recommender, seed, changes) for seed in seeds]
    values = {name: np.array([run[name] for run in runs], dtype=float) for name in COMPARED}
    for name, array in values.items():
        assert np.isfinite(array).all(), f"{implementation} {recommender}: {name} undefined in some runs"
    return values


def disagreements(recommender: str, reference_changes: tuple = ()) -> dict[str, float]:
    """The compared outcomes whose Welch's t-test, the reference (with changes) against the model, rejects at ``LEVEL``.

    Returns ``{outcome: p-value}``; empty when the two agree.
    """
    reference = sample("reference", recommender, reference_changes)
    model = sample("model", recommender)
    p = {name: float(stats.ttest_ind(reference[name], model[name], equal_var=False).pvalue) for name in COMPARED}
    return {name: value for name, value in p.items() if value < LEVEL}


@pytest.mark.parametrize("recommender", SETTINGS)
def test_the_reference_and_the_vectorized_model_agree_in_distribution(recommender):
    assert disagreements(recommender) == {}


def test_the_comparison_catches_a_changed_rule():
    # The same machinery, with the reference's opinions moving a quarter as fast (influence 0.05
    # instead of 0.2): at step 50 opinions are still spread out instead of gathered into camps, and
    # Esteban-Ray polarization, which grows as camps form, is clearly lower (about 9 standard errors).
    assert "esteban_ray" in disagreements("similarity", (("influence", 0.05),))


# --- direct tests of the reference ------------------------------------------------------------------

#: Bounded confidence alone (as in tests/test_opinion_dynamics.py): one virtual group that everyone
#: joins at the first step, no leaving, no need events, nobody present offline and no local ties.
DEFFUANT_WEISBUCH = {
    "n_people": 200, "width": 15, "height": 15,
    "n_virtual_groups": 1, "online_share": 1.0, "online_activity": 1.0, "join_threshold": 0.0,
    "max_memberships": 1, "leave_threshold": 2.0, "need_rate": 0.0, "isolation_mean": 1.0,
    "influence": 0.5, "meetings_per_step": 10,
}


def test_the_deffuant_weisbuch_reduction_pairs_everyone_and_keeps_the_mean():
    model = ReferenceModel(DEFFUANT_WEISBUCH, confidence=0.4, rng=0, outcomes=[])
    start = model.opinion.mean()
    model.step()
    assert np.all(model.memberships[:, 0] == 0)
    assert len(model.local_ties) == 0 and not model.offline_present.any()
    # 10 rounds of a perfect matching of 200 people: 100 pairs each, all online.
    assert len(model.contact_pairs) == 10 * 100 and model.contact_online.all()
    assert model.opinion.mean() == pytest.approx(start, abs=1e-12)  # a pair's move is symmetric


def test_the_deffuant_weisbuch_reduction_reaches_consensus_without_a_confidence_bound():
    model = ReferenceModel(DEFFUANT_WEISBUCH, confidence=2.0, rng=1)  # every pair is close enough
    start = model.opinion.mean()
    for _ in range(3):  # 30 rounds of perfect matchings, each halving the variance on average
        model.step()
    assert np.ptp(model.opinion) < 1e-3 and model.opinion.mean() == pytest.approx(start, abs=1e-12)


def test_the_deffuant_weisbuch_reduction_splits_into_about_one_over_epsilon_camps():
    # floor(1 / confidence) = 2 camps for confidence 0.4 on [-1, 1]; counted as clusters of at least
    # 5% of the 200 people, so that a few stragglers near the ends do not count as camps.
    counts = []
    for seed in range(5):
        model = ReferenceModel(DEFFUANT_WEISBUCH, confidence=0.4, rng=seed, outcomes=[])
        for _ in range(100):
            before = model.opinion
            model.step()
            if np.abs(model.opinion - before).max() < 1e-6:
                break
        counts.append(opinion_clusters(model.opinion, major_share=0.05))
    assert abs(np.mean(counts) - 2) < 0.6 and all(abs(c - 2) <= 1 for c in counts), counts


def test_the_state_has_the_shapes_the_outcomes_read_and_a_record_per_step():
    model = ReferenceModel(TINY, rng=3)
    for _ in range(5):
        model.step()
    n = TINY["n_people"]
    assert model.steps == 5
    assert model.opinion.shape == model.belonging.shape == model.exposure_mean.shape == (n,)
    assert model.exposure_spread.shape == model.support.shape == model.support_online.shape == (n,)
    assert model.support_offline.shape == (n,)
    assert model.in_need.dtype == bool and model.most_isolated.dtype == bool
    assert model.most_isolated.sum() == n // 4
    assert model.memberships.shape == (n, model.parameters["max_memberships"])
    assert model.position.shape == (n, 2)
    assert model.contact_pairs.shape == (len(model.contact_online), 2)
    assert model.n_virtual_groups == TINY["n_virtual_groups"]
    assert [record["step"] for record in model.history] == [0, 1, 2, 3, 4, 5]
    assert all(set(record) == {"step", *OUTCOMES} for record in model.history)
    last, now = model.history[-1], model.outcomes()
    assert np.allclose([last[name] for name in OUTCOMES], [now[name] for name in OUTCOMES], equal_nan=True)
    # The state stays in its ranges; memberships are compact, without a group twice.
    assert np.all(np.abs(model.opinion) <= 1) and np.all((model.belonging >= 0) & (model.belonging <= 1))
    assert np.all(model.support[~model.in_need] == 0)
    for row in model.memberships:
        valid = row[row >= 0]
        assert np.all(row[valid.size :] == -1) and len(set(valid.tolist())) == valid.size
    assert model.group_size.sum() == np.count_nonzero(model.memberships >= 0)


def test_the_same_seed_gives_the_same_run():
    a, b, c = (ReferenceModel(TINY, rng=seed) for seed in (7, 7, 8))
    for model in (a, b, c):
        for _ in range(3):
            model.step()
    assert np.array_equal(a.opinion, b.opinion) and not np.array_equal(a.opinion, c.opinion)


def test_local_ties_join_every_pair_of_neighbours_when_nobody_is_isolated():
    model = ReferenceModel({**TINY, "local_tie_radius": 2, "isolation_mean": 0.0}, rng=4)
    ties = model.contact_pairs
    gap = np.abs(model.position[ties[:, 0]] - model.position[ties[:, 1]]).max(axis=1)
    assert np.all((gap >= 1) & (gap <= 2))
    chebyshev = np.abs(model.position[:, None] - model.position[None, :]).max(axis=2)
    assert len(ties) == (np.count_nonzero(chebyshev <= 2) - model.n_people) // 2


def test_hybrid_scores_mix_similarity_and_bridging():
    model = ReferenceModel(TINY, recommender="hybrid", homophily=0.3, diversity_weight=0.4, rng=2)
    for _ in range(3):
        model.step()
    for person in model.people[:20]:
        for group in model.virtual_groups:
            similarity = REFERENCE_SCORES["similarity"](model, person, group)
            bridging = REFERENCE_SCORES["bridging"](model, person, group)
            assert model.score(model, person, group) == pytest.approx(0.6 * similarity + 0.4 * bridging)


def test_bad_parameters_and_unknown_recommenders_raise_parameter_errors():
    with pytest.raises(ParameterError, match="influence"):
        ReferenceModel(influence=0.9)
    with pytest.raises(ParameterError, match="did you mean"):
        ReferenceModel(n_peple=10)
    with pytest.raises(SimsolidarityError, match="unknown outcome"):
        ReferenceModel(TINY, outcomes=["polarisation"])
    register_recommender("first_group_only")(lambda model, people: np.zeros((len(people), model.n_virtual_groups)))
    try:
        with pytest.raises(ParameterError, match="reference implements"):
            ReferenceModel(TINY, recommender="first_group_only")
    finally:
        del RECOMMENDERS["first_group_only"]
