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
    in_need = rng.random(people) < 0.8
    online = np.bincount(meeting_pairs[meeting_online].ravel(), minlength=people)
    offline = np.bincount(np.concatenate([meeting_pairs[~meeting_online].ravel(), local_contacts.ravel()]),
                          minlength=people)
    for online_depth, offline_depth in [(0.3, 0.6), *rng.random((20, 2))]:
        support, support_online, support_offline = compiled(contact_support)(
            in_need, meeting_pairs, meeting_online, local_contacts, power_table(1.0 - online_depth, online.max()),
            power_table(1.0 - offline_depth, offline.max()), scratch((people, 2), np.int64),
        )
        unmet_online, unmet_offline = (1.0 - online_depth) ** online, (1.0 - offline_depth) ** offline
        assert np.array_equal(support_online, np.where(in_need, 1.0 - unmet_online, 0.0))
        assert np.array_equal(support_offline, np.where(in_need, 1.0 - unmet_offline, 0.0))
        assert np.array_equal(support, np.where(in_need, 1.0 - unmet_online * unmet_offline, 0.0))


def test_a_table_of_powers_too_short_is_an_error():
    """Catches: a count of contacts beyond the table read past its end, silently giving a wrong support."""
    pairs = np.array([[0, 1], [0, 2]])
    with pytest.raises(ValueError, match="more contacts"):
        compiled(contact_support)(np.ones(3, dtype=bool), pairs, np.ones(2, dtype=bool), np.empty((0, 2), np.int64),
                                  power_table(0.5, 1), power_table(0.5, 4), scratch((3, 2), np.int64))


def test_sources_sum_a_persons_contacts_as_first_and_as_second_apart():
    """The shares come out exactly as the sums by ``np.bincount``, once over the first and once over the second.

    Catches: one running sum over a person's contacts on both sides: another order of the same
    additions, which moves the last bits.
    """
    rng = np.random.default_rng(4)
    people = 200
    meeting_pairs, meeting_online, local_contacts = contacts(rng, people, 2000, 2000)
    opinion, block = rng.uniform(-1.0, 1.0, people), rng.integers(0, 20, people)
    online_depth, offline_depth, confidence = 0.3, 0.7, 0.5
    bridging, local = compiled(contact_sources)(meeting_pairs, meeting_online, local_contacts, opinion, block,
                                                online_depth, offline_depth, confidence, scratch((people, 6)))
    pairs = np.concatenate([meeting_pairs, local_contacts])
    first, second = pairs[:, 0], pairs[:, 1]
    depth = np.where(np.r_[meeting_online, np.zeros(len(local_contacts), dtype=bool)], online_depth, offline_depth)

    def per_person(weights: np.ndarray) -> np.ndarray:
        return np.bincount(first, weights=weights, minlength=people) + np.bincount(second, weights=weights,
                                                                                    minlength=people)

    total = per_person(depth)
    bridges = np.abs(opinion[first] - opinion[second]) >= confidence
    assert np.array_equal(bridging, per_person(depth * bridges) / total)
    assert np.array_equal(local, per_person(depth * (block[first] == block[second])) / total)
