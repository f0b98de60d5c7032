"""The reference model follows the same rules as the vectorized model: the two agree in distribution.

The two draw their random numbers in different orders, so a seed gives different runs in each;
what must agree is the distribution of the outcomes over seeds. The comparison is shown to notice
changed rules: the vectorized model with one rule changed (:mod:`tests.mutations`) disagrees.
"""

from functools import cache

import numpy as np
import pytest
from scipy import stats

from simsolidarity import OUTCOMES, ParameterError, SimsolidarityError, SolidarityModel
from simsolidarity.model.outcomes import BUILT_IN_OUTCOMES, measure, opinion_clusters
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender
from simsolidarity.model.reference import REFERENCE_SCORES, ReferenceModel

from .mutations import MUTATIONS

#: Smaller than conftest's SMALL, so that 30 seeds of three settings in both implementations
#: (and the mutated runs of the vectorized one) run in well under a minute; still 9 blocks,
#: 8 virtual groups and a few hundred local ties.
TINY = {"n_people": 150, "width": 15, "height": 15, "block_size": 5, "n_virtual_groups": 8}
#: The population of TINY in conditions where every compared outcome moves, none pinned at a bound:
#: - ``offline_depth`` 0.5 (default 1): one face-to-face contact no longer meets a need by itself,
#:   so support received is about 0.6 instead of about 0.96 and the share of needs unmet about 0.2
#:   instead of about 0.03 (it still meets ``depth_need``, so belonging's offline part is unchanged);
#: - ``need_rate`` 0.3 (default 0.1): about 45 people in need at the last step, 11 of them in the
#:   most isolated quartile, so support is measured on more than a handful and defined in every run;
#: - ``isolation_mean`` 0.5 (default 0.3): half the people absent offline in a step and fewer local
#:   ties, so more people's belonging rests on their virtual groups and fewer needs are met locally;
#: - ``online_depth`` 0.2 (default 0.4): an online tie's depth meets 0.4 of ``depth_need``, so
#:   online identification and support are clearly set apart from face-to-face ones;
#: - ``homophily`` 0.8 (default 0.5): the similarity recommender sorts people by opinion strongly
#:   enough that its sorting shows in echo chambers and in the spread of opinions inside groups.
CONDITIONS = {**TINY, "offline_depth": 0.5, "need_rate": 0.3, "isolation_mean": 0.5, "online_depth": 0.2,
              "homophily": 0.8}
#: At step 25 opinions are still gathering into camps (Esteban-Ray polarization about 0.1), so the
#: pace of influence shows; by step 50 most runs have settled and a doubled pace is hardly seen.
STEPS = 25
SEEDS = 30
#: Model and reference runs take seeds from disjoint ranges: with the same seed both would draw
#: the same grid cells first, and the two samples would not be independent.
MODEL_SEEDS = range(SEEDS)
REFERENCE_SEEDS = range(1000, 1000 + SEEDS)
SETTINGS = ("random", "similarity", "bridging")
#: Outcomes left out of the comparison: with 8 virtual groups for 150 people, every group keeps two
#: or more members, so ``active_virtual_groups`` is 8 in every run of both implementations and has no
#: spread to compare.
LEFT_OUT = ("active_virtual_groups",)
#: Every built-in outcome (both implementations expose the state they read) but those left out. In
#: CONDITIONS none is saturated: support received is about 0.6, the share of needs unmet about 0.2,
#: belonging about 0.55; the lowest, Esteban-Ray polarization (0.08 to 0.14 by setting: camps are
#: still forming), the Gini of group sizes (0.10 to 0.15) and support through online ties (about
#: 0.12), are above 0.02 in every run and spread over seeds, not pressed against 0.
COMPARED = tuple(name for name in BUILT_IN_OUTCOMES if name not in LEFT_OUT)
#: Each (setting, outcome) is a Welch's t-test of the 30 reference runs against the 30 model runs
#: at the last step: the runs of different seeds are independent, the spread of an outcome over
#: seeds sets the tolerance, Welch does not assume the two spreads are equal, and means of 30 runs
#: are close to normal even where single runs are not (consensus or two camps). Over the 3 settings x
#: the compared outcomes, Bonferroni's level 0.01 / (their number) keeps the chance that two correct
#: implementations fail anywhere in this file at most 1% for a draw of seeds, however the outcomes
#: depend on each other; the seeds are fixed, so the verdict is deterministic. At this level and 30
#: seeds a side, a test sees a shift of the mean by about 1.3 seed-to-seed standard deviations with
#: 80% power: a check against rules that are wrong, not against fine bias (for that, run the
#: comparison with hundreds of seeds). The mutation tests below show that each rule they change
#: moves some outcome by more than that.
FAMILY_LEVEL = 0.01
LEVEL = FAMILY_LEVEL / (len(SETTINGS) * len(COMPARED))


@cache
def final_outcomes(
    implementation: str, recommender: str, seed: int, changes: tuple = (), mutation: str | None = None
) -> dict[str, float]:
    """The compared outcomes after ``STEPS`` steps of one run.

    Args:
        implementation: ``"reference"`` or ``"model"`` (the vectorized one).
        changes: ``(name, value)`` pairs applied to CONDITIONS.
        mutation: a name of :data:`~tests.mutations.MUTATIONS`, whose changed rule is in force for
            this run only (it is part of the cache key, so a mutated run never stands in for a plain one).
    """
    model_class = ReferenceModel if implementation == "reference" else SolidarityModel
    with pytest.MonkeyPatch.context() as monkeypatch:
        if mutation is not None:
            MUTATIONS[mutation](monkeypatch)
        # Nothing recorded each step (outcomes=()): only the state at the last step is measured.
        model = model_class({**CONDITIONS, **dict(changes)}, recommender=recommender, rng=seed, outcomes=())
        for _ in range(STEPS):
            model.step()
    return measure(model, list(COMPARED))


def sample(
    implementation: str, recommender: str, changes: tuple = (), mutation: str | None = None
) -> dict[str, np.ndarray]:
    """Each compared outcome at the last step over the implementation's seeds."""
    seeds = REFERENCE_SEEDS if implementation == "reference" else MODEL_SEEDS
    runs = [final_outcomes(implementation, recommender, seed, changes, mutation) for seed in seeds]
    values = {name: np.array([run[name] for run in runs], dtype=float) for name in COMPARED}
    for name, array in values.items():
        assert np.isfinite(array).all(), f"{implementation} {recommender}: {name} undefined in some runs"
    return values


def welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's t-test p-value of equal means; for two samples without spread, 1 if equal and 0 if not."""
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # the t statistic is 0 / 0
        return 1.0 if a[0] == b[0] else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def disagreements(recommender: str, reference_changes: tuple = (), mutation: str | None = None) -> dict[str, float]:
    """The compared outcomes whose Welch's t-test, the reference (with changes) against the model (with a
    mutation), rejects at ``LEVEL``.

    Returns ``{outcome: p-value}``; empty when the two agree.
    """
    reference = sample("reference", recommender, reference_changes)
    model = sample("model", recommender, mutation=mutation)
    p = {name: welch_p(reference[name], model[name]) for name in COMPARED}
    return {name: value for name, value in p.items() if value < LEVEL}


def caught_by(mutation: str) -> dict[tuple[str, str], float]:
    """The (setting, outcome) tests that reject with the model's rule changed by ``mutation``, with their p-values."""
    return {
        (recommender, name): p
        for recommender in SETTINGS
        for name, p in disagreements(recommender, mutation=mutation).items()
    }


@pytest.mark.parametrize("recommender", SETTINGS)
def test_the_reference_and_the_vectorized_model_agree_in_distribution(recommender):
    """Catches: any rule of either implementation that moves a compared outcome by more than the tolerance."""
    assert disagreements(recommender) == {}


def test_the_comparison_catches_a_changed_rule_of_the_reference():
    """Catches: a comparison too weak to notice the reference's opinions moving a quarter as fast."""
    # Influence 0.05 instead of 0.2 in the reference: at step 25 opinions are still spread out
    # instead of gathering into camps, and their variance stays clearly higher.
    assert "opinion_variance" in disagreements("similarity", (("influence", 0.05),))


def assert_caught(mutation: str, outcome: str) -> None:
    """The comparison agrees without ``mutation`` and rejects, at least on ``outcome``, with it."""
    # Checked here too, so that a mutation is never "caught" by a comparison that fails anyway.
    assert all(disagreements(recommender) == {} for recommender in SETTINGS)
    caught = caught_by(mutation)
    assert outcome in {name for _, name in caught}, caught


def test_the_comparison_catches_belonging_without_the_online_depth_factor():
    """Catches: a comparison blind to belonging that ignores how fully online depth meets ``depth_need``."""
    # Online identification counts fully instead of 0.4 of itself: belonging is higher.
    assert_caught("belonging_without_online_depth", "belonging")


def test_the_comparison_catches_nobody_leaving_virtual_groups():
    """Catches: a comparison blind to the ``leave_threshold`` rule being disabled."""
    # Groups keep members whose opinions drifted away: the spread of opinions inside groups is wider.
    assert_caught("no_leaving", "group_opinion_spread")


def test_the_comparison_catches_influence_doubled_inside_the_rule():
    """Catches: a comparison blind to a meeting rule that moves a close pair by twice ``influence``."""
    # Camps form twice as fast: polarization is higher at the last step.
    assert_caught("doubled_influence", "esteban_ray")


def test_the_comparison_catches_a_similarity_recommender_that_scores_at_random():
    """Catches: a comparison blind to the vectorized ``similarity`` recommender scoring groups at random."""
    # Groups no longer sorted by opinion: the opinions people meet are less like their own.
    assert_caught("random_similarity", "echo_chamber_index")


def test_the_comparison_catches_online_ties_as_deep_as_face_to_face_ones_in_support():
    """Catches: a comparison blind to online contacts carrying ``offline_depth`` in the support rule."""
    # Online contacts carry depth 0.5 instead of 0.2: more support comes through them.
    assert_caught("online_as_deep_as_offline", "support_online")


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
    ties = np.array([(a.index, b.index) for a, b in model.local_ties])
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
