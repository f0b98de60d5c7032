"""Model v2: behaviour that responds (compensation, leave_belonging), feed ranking (feed_bias), and the
social-capital outcomes; and a run pinned number for number, so that no change moves the model unnoticed."""

from __future__ import annotations

import numpy as np
import pytest

from simsolidarity.model.outcomes import correlation, support_share_through

from .conftest import paired_ci
from .test_model import run
from .test_reference import COMPARED, FAMILY_LEVEL, sample, welch_p

#: Outcomes of a run at seed 42 with the second version's mechanisms off (their defaults), as this version of the
#: model gives them: any change to a rule, a draw or the order of draws moves them. Rewrite them on purpose only,
#: with the change that moves them (and the findings regenerated: docs/findings/regenerate.py --fresh).
PINNED = {
    1: {"opinion_variance": 0.31635850206058663, "echo_chamber_index": -0.07793022036792768,
        "support_received": 0.7585714285714287, "belonging": 0.5128298253946153,
        "belonging_isolated": 0.5034237078817912, "mean_tie_distance": 4.6415562047263,
        "group_size_gini": 0.17592592592592593},
    10: {"opinion_variance": 0.24425372485958788, "echo_chamber_index": 0.4594802434344524,
         "support_received": 0.8380487804878048, "belonging": 0.5983704449383372,
         "belonging_isolated": 0.5216333033255723, "mean_tie_distance": 4.369352336717962,
         "group_size_gini": 0.12281153450051494},
    30: {"opinion_variance": 0.1761669723949506, "echo_chamber_index": 0.486126463773454,
         "support_received": 0.798918918918919, "belonging": 0.6622298278374836,
         "belonging_isolated": 0.524603381615352, "mean_tie_distance": 4.473649953444659,
         "group_size_gini": 0.1234474655924807},
}


def test_the_pinned_run_comes_out_number_for_number():
    """Catches: a rule, a draw or the order of draws changed at the default parameters (a new mechanism that
    draws a random number or changes a value while off included), or a kernel whose sums moved."""
    model = run(30, 42, compensation=0.0, feed_bias=0.0, leave_belonging=0.0)
    table = model.datacollector.get_model_vars_dataframe()
    for step, values in PINNED.items():
        for outcome, value in values.items():
            assert table[outcome].iloc[step] == value, (step, outcome)
    assert float(model.opinion.sum()) == 5.283477456142239
    assert float(model.belonging.sum()) == 264.89193113499346


def isolated_engagement(compensation: float, seed: int) -> float:
    model = run(60, seed, compensation=compensation)
    return float(model.online_engagement[model.most_isolated & model.online].mean())


def test_compensation_moves_the_online_activity_of_the_most_isolated_both_ways():
    """Social compensation sends the most isolated online, rich-get-richer keeps them off.

    Catches: compensation ignored, its sign reversed, or the activity read from belonging overall
    instead of what offline life gives. Eight paired seeds; the effect is large against the spread
    between seeds (about 0.1 against 0.02), so the 95% intervals exclude 0 with room.
    """
    seeds = range(8)
    none = [isolated_engagement(0.0, s) for s in seeds]
    compensating = [isolated_engagement(0.8, s) for s in seeds]
    richer = [isolated_engagement(-0.8, s) for s in seeds]
    low, high = paired_ci(compensating, none)
    assert low > 0, (low, high)
    low, high = paired_ci(richer, none)
    assert high < 0, (low, high)


def test_online_activity_stays_a_chance_whatever_the_compensation():
    """Catches: an activity outside [0, 1] (a linear form without a bound), or 0 and 1 moved by compensation."""
    model = run(5, 1, compensation=1.0)
    model.offline_belonging[:] = [0.0, 1.0] * (model.n_people // 2)
    activity = model._online_activity()
    assert np.all((activity >= 0) & (activity <= 1)) and activity[0] > 0.5 > activity[1]
    for edge in (0.0, 1.0):
        model = run(5, 1, compensation=1.0, online_activity=edge)
        assert np.all(model._online_activity() == edge)


def test_leaving_by_belonging_counts_attended_steps_in_a_row():
    """Catches: leave_belonging ignored, a count not reset by an attended step with enough, a count moved
    by a step away, leaving before the third low step, or counts left in a slot when memberships move up."""
    model = run(3, 5, leave_belonging=0.3, leave_threshold=2.0, max_memberships=3)
    held = np.flatnonzero((model.memberships >= 0).all(axis=1))[:4]
    assert len(held) == 4
    a, b, c, d = held
    groups = {person: model.memberships[person].copy() for person in held}
    model.group_identification[held] = np.nan
    model.low_belonging_steps[held] = 0
    model.group_identification[a, 0], model.low_belonging_steps[a, 0] = 0.1, 2  # third low step: leaves
    model.group_identification[b, 0], model.low_belonging_steps[b, 0] = 0.1, 1  # second: stays, counts 2
    model.group_identification[c, 0], model.low_belonging_steps[c, 0] = 0.9, 2  # enough: count back to 0
    model.low_belonging_steps[d, 0] = 2  # not attended: count kept
    model._leave()
    assert list(model.memberships[a]) == [groups[a][1], groups[a][2], -1]
    assert list(model.low_belonging_steps[a]) == [0, 0, 0]
    assert model.memberships[b, 0] == groups[b][0] and model.low_belonging_steps[b, 0] == 2
    assert model.memberships[c, 0] == groups[c][0] and model.low_belonging_steps[c, 0] == 0
    assert model.memberships[d, 0] == groups[d][0] and model.low_belonging_steps[d, 0] == 2


def test_leaving_by_belonging_over_a_run_keeps_counts_with_their_memberships():
    """Catches: counts left behind in free slots, or counts past the leaving point, in a real run."""
    model = run(20, 3, leave_belonging=0.15, online_depth=0.1, depth_need=0.5, leave_threshold=2.0)
    assert np.all(model.low_belonging_steps[model.memberships < 0] == 0)
    assert np.all(model.low_belonging_steps < 3) and model.low_belonging_steps.max() > 0


def test_support_shares_count_each_person_by_the_support_received():
    """Catches: a plain mean of the shares (ignoring how much support each got), or people not in need counted."""
    in_need = np.array([True, True, False, True])
    support = np.array([0.9, 0.1, 0.0, 0.0])
    share = np.array([1.0, 0.0, 1.0, np.nan])  # the third is not in need, the fourth met nobody
    assert support_share_through(in_need, support, share) == pytest.approx(0.9)
    assert np.isnan(support_share_through(in_need, np.zeros(4), share))


def test_bridging_and_local_support_follow_who_the_contacts_are():
    """Catches: camps or blocks read from the wrong people of a contact, or the shares swapped."""
    one_block = run(10, 2, online_share=0.0, block_size=25)  # everyone offline, in one block
    outcomes = one_block.outcomes()
    assert outcomes["local_support_share"] == pytest.approx(1.0)
    camps = run(10, 2, confidence=2.0)  # opinions in [-1, 1] are never 2 apart: no other camp
    assert camps.outcomes()["bridging_support"] == 0.0
    wide = run(10, 2, confidence=0.05)  # nearly every contact crosses camps
    assert wide.outcomes()["bridging_support"] > 0.8


def test_online_belonging_correlation_is_pearson_r_of_engagement_and_belonging():
    """Catches: the correlation taken over the wrong arrays or undefined values passed off as numbers."""
    model = run(30, 4)
    expected = np.corrcoef(model.online_engagement, model.belonging)[0, 1]
    assert model.outcomes()["online_belonging_correlation"] == pytest.approx(expected)
    assert np.isnan(correlation(np.ones(5), np.arange(5.0)))


# --- the reference model ---------------------------------------------------------------------------

#: Social compensation and leaving by belonging, on tests/test_reference.py's conditions (online depth
#: 0.2 against a need of 0.5, so a virtual group's identification is at most 0.4 and often below 0.3).
FEEDBACK = (("compensation", 0.8), ("leave_belonging", 0.3))


def feedback_disagreements(reference_changes: tuple, model_changes: tuple) -> dict[str, float]:
    """Every compared outcome whose Welch's t-test, reference against model (similarity recommender, 30 seeds a
    side), rejects at a Bonferroni level over the outcomes (as in tests/test_reference.py): ``{outcome: p}``."""
    reference = sample("reference", "similarity", reference_changes)
    model = sample("model", "similarity", model_changes)
    level = FAMILY_LEVEL / len(COMPARED)
    p = {name: welch_p(reference[name], model[name]) for name in COMPARED}
    return {name: value for name, value in p.items() if value < level}


def test_the_reference_and_the_vectorized_model_agree_with_compensation_and_leaving_by_belonging():
    """Catches: a rule of compensation or of leaving by belonging, in either implementation, that moves a
    compared outcome by more than the tolerance."""
    assert feedback_disagreements(FEEDBACK, FEEDBACK) == {}


@pytest.mark.parametrize("ignored", ["compensation", "leave_belonging"])
def test_the_comparison_notices_a_reference_that_ignores_a_feedback(ignored):
    """Catches: a comparison too weak to see the reference without compensation, or without leaving by belonging."""
    without = tuple((name, 0.0 if name == ignored else value) for name, value in FEEDBACK)
    assert feedback_disagreements(without, FEEDBACK)
