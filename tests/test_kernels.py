"""The compiled kernels of a step: numba loaded only when a model is built, and numbers exactly numpy's.

The model's own exactness (a run's outcomes, bit for bit) is pinned in tests/test_model_v2.py; these
tests hold the parts it does not reach: the lazy import, and the kernels' order of sums and powers
on inputs where another order or another power would show.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from simsolidarity.model.kernels import compiled, contact_sources, contact_support, power_table, scratch


def test_numba_is_imported_when_a_model_is_built_not_by_importing_the_package():
    """Catches: a module-level numba import in the kernels or the feed, which every command would pay (0.3 s)."""
    script = """
import sys
import simsolidarity
from simsolidarity import SolidarityModel
print("numba" in sys.modules)
SolidarityModel({"n_people": 50, "width": 10, "height": 10, "n_virtual_groups": 3}, rng=0, outcomes=())
print("numba" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_each_kernel_is_compiled_once_per_process():
    """Catches: ``compiled`` not cached, so that every call of a rule builds a new dispatcher and loads it again."""
    assert compiled(contact_sources) is compiled(contact_sources)
    assert compiled(contact_sources) is not compiled(contact_support)


def contacts(rng: np.random.Generator, people: int, meetings: int, local: int):
    """Random meetings (about half online) and local contacts among ``people``, many per person."""
    return (rng.integers(0, people, (meetings, 2)), rng.random(meetings) < 0.5, rng.integers(0, people, (local, 2)))


def test_support_takes_its_powers_from_numpy():
    """``1 - (1 - depth) ** k`` comes out as numpy's power gives it, for any depth.

    Catches: the power taken in the kernel (libm's ``pow``, or an integer power that multiplies):
    numpy's SIMD power differs from both in the last bit for some bases and exponents (0.7 ** 3).
    """
    rng = np.random.default_rng(3)
    people = 300
    meeting_pairs, meeting_online, local_contacts = contacts(rng, people, 1500, 1500)
    need_uniforms = rng.random(people)
    in_need = need_uniforms < 0.8
    online = np.bincount(meeting_pairs[meeting_online].ravel(), minlength=people)
    offline = np.bincount(np.concatenate([meeting_pairs[~meeting_online].ravel(), local_contacts.ravel()]),
                          minlength=people)
    for online_depth, offline_depth in [(0.3, 0.6), *rng.random((20, 2))]:
        needs, support, support_online, support_offline = compiled(contact_support)(
            0.8, need_uniforms, meeting_pairs, meeting_online, local_contacts,
            power_table(1.0 - online_depth, online.max()), power_table(1.0 - offline_depth, offline.max()),
            scratch((people, 2), np.int64),
        )
        unmet_online, unmet_offline = (1.0 - online_depth) ** online, (1.0 - offline_depth) ** offline
        assert np.array_equal(needs, in_need)
        assert np.array_equal(support_online, np.where(in_need, 1.0 - unmet_online, 0.0))
        assert np.array_equal(support_offline, np.where(in_need, 1.0 - unmet_offline, 0.0))
        assert np.array_equal(support, np.where(in_need, 1.0 - unmet_online * unmet_offline, 0.0))


def test_a_table_of_powers_too_short_is_an_error():
    """Catches: a count of contacts beyond the table read past its end, silently giving a wrong support."""
    pairs = np.array([[0, 1], [0, 2]])
    with pytest.raises(ValueError, match="more contacts"):
        compiled(contact_support)(1.0, np.zeros(3), pairs, np.ones(2, dtype=bool), np.empty((0, 2), np.int64),
                                  power_table(0.5, 1), power_table(0.5, 4), scratch((3, 2), np.int64))


def test_sources_are_the_depth_weighted_shares_over_a_persons_contacts_on_either_side():
    """The shares come out as sums by ``np.bincount`` over the first and the second of each contact give them.

    Catches: a contact counted for one of its two people only, a bridge at a distance below ``confidence``
    (``>`` for ``>=``), a local contact by the wrong block, a local tie weighed as an online one.
    """
    rng = np.random.default_rng(4)
    people = 200
    meeting_pairs, meeting_online, local_contacts = contacts(rng, people, 2000, 2000)
    opinion, block = np.round(rng.uniform(-1.0, 1.0, people), 1), rng.integers(0, 20, people)  # ties at confidence
    online_depth, offline_depth, confidence = 0.3, 0.7, 0.5
    bridging, local = compiled(contact_sources)(meeting_pairs, meeting_online, local_contacts, opinion, block,
                                                online_depth, offline_depth, confidence, scratch((people, 3)))
    pairs = np.concatenate([meeting_pairs, local_contacts])
    first, second = pairs[:, 0], pairs[:, 1]
    depth = np.where(np.r_[meeting_online, np.zeros(len(local_contacts), dtype=bool)], online_depth, offline_depth)

    def per_person(weights: np.ndarray) -> np.ndarray:
        return np.bincount(first, weights=weights, minlength=people) + np.bincount(second, weights=weights,
                                                                                    minlength=people)

    total = per_person(depth)
    bridges = np.abs(opinion[first] - opinion[second]) >= confidence
    # The same terms, summed in another order: equal to rounding.
    assert np.allclose(bridging, per_person(depth * bridges) / total, rtol=1e-12, atol=0)
    assert np.allclose(local, per_person(depth * (block[first] == block[second])) / total, rtol=1e-12, atol=0)


# --- the meeting, recommendation and leaving kernels ------------------------------------------------


def presence(rng: np.random.Generator, people: int, slots: int, groups: int, blocks: int):
    """Random blocks, flags and compacted memberships (no group twice in a row) of ``people``."""
    block = rng.integers(0, blocks, people)
    offline_present, active_online = rng.random(people) < 0.6, rng.random(people) < 0.6
    held = rng.integers(0, slots + 1, people)
    memberships = np.full((people, slots), -1)
    for person in range(people):
        memberships[person, : held[person]] = rng.choice(groups, held[person], replace=False)
    return block, offline_present, active_online, memberships


def present_table(groups, block, offline_present, active_online, memberships):
    """The groups each person is present in, geographic first, as the kernels' rule says."""
    geographic = np.where(offline_present, groups + block, -1)
    return np.column_stack([geographic, np.where(active_online[:, None], memberships, -1)])


def test_each_attendee_attends_one_of_their_groups_picked_by_their_uniform():
    """Catches: a person attending a group they are not present in (a free slot, a virtual group while
    offline), an absent person attending, a pick among every slot instead of the present ones, bounds
    that do not delimit each group's attendees."""
    from simsolidarity.model.kernels import attend

    rng = np.random.default_rng(5)
    groups, blocks = 6, 4
    block, offline_present, active_online, memberships = presence(rng, 400, 3, groups, blocks)
    uniforms = rng.random((2, 400))
    people, group, bounds = compiled(attend)(block, groups, blocks, offline_present, active_online, memberships,
                                             uniforms)
    present = present_table(groups, block, offline_present, active_online, memberships)
    options = [row[row >= 0] for row in present]
    expected = {person: row[int(uniforms[0, person] * row.size)] for person, row in enumerate(options) if row.size}
    assert sorted(people.tolist()) == sorted(expected)
    assert {int(p): int(g) for p, g in zip(people, group, strict=True)} == expected
    assert np.array_equal(bounds, np.r_[0, np.cumsum(np.bincount(group, minlength=groups + blocks))])
    assert np.array_equal(group, np.sort(group))


def test_attendees_are_shuffled_uniformly_within_their_group():
    """Every order of a group's four attendees comes up equally often (chi-square over 24 orders).

    Catches: Sattolo's slip (swapping with ``k + 1 + floor(u * (end - k - 1))``, which reaches only cyclic
    orders) and the naive shuffle (a swap with any position, whose 4^4 paths favour some orders).
    With 12,000 shuffles each order is expected 500 times; a uniform shuffle exceeds the chi-square
    bound of 23 degrees of freedom at p = 1e-4 (58.0) once in 10,000 seeds, a biased one always.
    """
    from simsolidarity.model.kernels import attend

    rng = np.random.default_rng(6)
    block, present, away = np.zeros(4, dtype=np.int64), np.ones(4, dtype=bool), np.zeros(4, dtype=bool)
    memberships = np.full((4, 1), -1)
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(12_000):
        people, _, _ = compiled(attend)(block, 0, 1, present, away, memberships, rng.random((2, 4)))
        counts[tuple(people.tolist())] = counts.get(tuple(people.tolist()), 0) + 1
    assert len(counts) == 24
    observed = np.array(list(counts.values()))
    assert ((observed - 500) ** 2 / 500).sum() < 58.0


def test_attendees_pair_in_order_with_one_odd_one_out():
    """Catches: a pair across two groups, an attendee in two pairs, or an even group leaving someone out."""
    from simsolidarity.model.kernels import pair_in_order

    sizes = np.array([0, 1, 2, 5, 4])
    bounds = np.r_[0, np.cumsum(sizes)]
    group = np.repeat(np.arange(sizes.size), sizes)
    people = np.arange(group.size)[::-1].copy()
    first, second, met_in = compiled(pair_in_order)(people, group, bounds)
    assert np.array_equal(met_in, [2, 3, 3, 4, 4])
    assert np.array_equal(np.column_stack([first, second]), people[[[1, 2], [3, 4], [5, 6], [8, 9], [10, 11]]])


def test_take_part_draws_online_then_offline_for_each_person():
    """Catches: the two uniforms swapped, access ignored, or a seeker with a full last slot."""
    from simsolidarity.model.kernels import take_part

    rng = np.random.default_rng(7)
    people = 500
    online, isolation = rng.random(people) < 0.7, rng.random(people)
    activity = rng.random(people)
    _, _, _, memberships = presence(rng, people, 2, 5, 1)
    uniforms = rng.random((2, people))
    for chance in (activity, np.array([0.4])):
        active, offline, seekers = compiled(take_part)(online, chance, isolation, memberships, uniforms)
        assert np.array_equal(active, online & (uniforms[0] < chance))
        assert np.array_equal(offline, uniforms[1] >= isolation)
        assert np.array_equal(seekers, np.flatnonzero(active & (memberships[:, -1] < 0)))


def test_local_contacts_are_the_ties_of_two_people_offline():
    """Catches: a tie counted with one side offline, or the rows of the ties out of order."""
    from simsolidarity.model.kernels import local_contacts

    rng = np.random.default_rng(8)
    ties, offline = rng.integers(0, 100, (700, 2)), rng.random(100) < 0.5
    contacts, which = compiled(local_contacts)(ties, offline)
    expected = np.flatnonzero(offline[ties[:, 0]] & offline[ties[:, 1]])
    assert np.array_equal(which, expected) and np.array_equal(contacts, ties[expected])


def test_leaving_frees_the_slots_and_keeps_the_rest_in_order_with_their_counts():
    """The memberships and their counters come out as the rule says, computed here table by table.

    Catches: a left slot not freed, the kept memberships reordered, a counter left behind when its
    membership moves forward, a step away resetting the count, a nan identification counted as low.
    """
    from simsolidarity.model.kernels import leave

    rng = np.random.default_rng(9)
    people, slots, groups = 600, 4, 8
    _, _, _, memberships = presence(rng, people, slots, groups, 1)
    opinion, group_opinion = rng.uniform(-1, 1, people), rng.uniform(-1, 1, groups)
    identification = np.where(rng.random((people, slots)) < 0.7, rng.random((people, slots)), np.nan)
    counts = np.where(memberships >= 0, rng.integers(0, 3, (people, slots)), 0).astype(np.int16)
    held = memberships >= 0
    attended = ~np.isnan(identification)
    new_counts = np.where(attended & (identification < 0.4), counts + 1, np.where(attended, 0, counts))
    distance = np.abs(opinion[:, None] - group_opinion[np.where(held, memberships, 0)])
    leaving = held & ((distance > 0.8) | (new_counts >= 3))
    kept_groups = [row[~gone & row_held] for row, gone, row_held in zip(memberships, leaving, held, strict=True)]
    kept_counts = [row[~gone & row_held] for row, gone, row_held in zip(new_counts, leaving, held, strict=True)]
    compiled(leave)(opinion, memberships, group_opinion, 0.8, identification, 0.4, 3, counts)
    for person in range(people):
        size = kept_groups[person].size
        assert np.array_equal(memberships[person], np.r_[kept_groups[person], [-1] * (slots - size)])
        assert np.array_equal(counts[person], np.r_[kept_counts[person], [0] * (slots - size)])


def test_people_join_the_best_shown_groups_that_match_as_far_as_their_free_slots_go():
    """The joins come out as a table-by-table version of the rule computes them.

    Catches: a group the person is in shown again, a ``-inf`` score joined, the shown groups taken in
    another order than best first, a join past the free slots, the interest match not asked.
    """
    from simsolidarity.model.kernels import show_and_join

    rng = np.random.default_rng(10)
    people, slots, groups, topics, shown_count = 300, 3, 12, 4, 4
    _, _, _, memberships = presence(rng, people, slots, groups, 1)
    memberships[:, -1] = -1  # every one of them seeks
    interests, topic = rng.random((people, topics)), rng.random((groups, topics))
    unit_topic = topic / np.linalg.norm(topic, axis=1, keepdims=True)
    scores = np.where(rng.random((people, groups)) < 0.7, -np.inf, rng.random((people, groups)))
    noise = rng.random((people, groups))
    seekers = np.arange(people)
    noisy = scores + 1e-9 * noise
    noisy[np.arange(people)[:, None].repeat(slots, 1)[memberships >= 0], memberships[memberships >= 0]] = -np.inf
    best = np.argsort(-noisy, axis=1, kind="stable")[:, :shown_count]
    match = np.einsum("pk,pck->pc", interests / np.linalg.norm(interests, axis=1, keepdims=True), unit_topic[best])
    wants = np.isfinite(np.take_along_axis(noisy, best, axis=1)) & (match >= 0.8)
    before = memberships.copy()
    compiled(show_and_join)(seekers, scores, memberships, shown_count, interests, unit_topic, 0.8, 1e-9, noise)
    for person in range(people):
        held = before[person][before[person] >= 0]
        joined = best[person][wants[person]][: slots - held.size]
        assert np.array_equal(memberships[person], np.r_[held, joined, [-1] * (slots - held.size - joined.size)])
