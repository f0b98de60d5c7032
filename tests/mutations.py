"""Changed rules of the vectorized model, for showing that the reference comparison notices them.

Each mutation is a function that takes a ``pytest.MonkeyPatch`` and swaps one rule of
:class:`~simsolidarity.model.model.SolidarityModel` (or one recommender) for a copy of its logic with one
change, said in its docstring. The swap lasts as long as the monkeypatch: the comparison applies
it around the runs it makes with that mutation and undoes it straight after.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from simsolidarity.model.model import SolidarityModel, _depth_factor
from simsolidarity.model.recommenders import RECOMMENDERS


def belonging_without_online_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Belonging: identification with a virtual group is not scaled by how fully online depth meets ``depth_need``."""

    def _update_belonging(self: SolidarityModel) -> None:
        p, x = self.params, self.opinion
        residents = np.bincount(self.block, minlength=self.n_blocks)
        block_opinion = np.bincount(self.block, weights=x, minlength=self.n_blocks) / np.maximum(residents, 1)
        offline = 1.0 - np.abs(x - block_opinion[self.block]) / 2.0
        offline *= _depth_factor(p.offline_depth, p.depth_need)
        offline = np.where(self.offline_present, offline, 0.0)
        attended = np.where(self.active_online[:, None], self.memberships, -1)
        closeness = 1.0 - np.abs(x[:, None] - self.group_opinion[np.maximum(attended, 0)]) / 2.0
        online = np.where(attended >= 0, closeness, 0.0).max(axis=1, initial=0.0)  # changed: no depth factor
        target = 1.0 - (1.0 - np.maximum(offline, online)) * (1.0 - self.support)
        self.belonging += p.belonging_rate * (target - self.belonging)

    monkeypatch.setattr(SolidarityModel, "_update_belonging", _update_belonging)


def no_leaving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave: nobody leaves a virtual group, however far its mean opinion (``leave_threshold`` ignored).

    The groups are still brought up to date, as after leaving, so that only the leaving rule changes.
    """
    monkeypatch.setattr(SolidarityModel, "_leave", lambda self: self._refresh_groups())


def doubled_influence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Meet: a close pair moves together by twice ``influence`` times the difference."""

    def _influence(self: SolidarityModel, first: np.ndarray, second: np.ndarray) -> None:
        difference = self.opinion[second] - self.opinion[first]
        close = np.abs(difference) < self.params.confidence
        step = 2.0 * self.params.influence * difference[close]  # changed: 2x the parameter
        self.opinion[first[close]] += step
        self.opinion[second[close]] -= step

    monkeypatch.setattr(SolidarityModel, "_influence", _influence)


def random_similarity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recommend: the ``similarity`` recommender scores groups at random (the reference's scores are untouched)."""
    monkeypatch.setitem(RECOMMENDERS, "similarity", RECOMMENDERS["random"])


def online_as_deep_as_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Support: an online contact carries ``offline_depth``, as deep as a face-to-face one."""

    def _support(self: SolidarityModel) -> None:
        p, n = self.params, self.n_people
        self.in_need = self.rng.random(n) < p.need_rate
        online = self.meeting_online
        online_contacts = np.bincount(self.meeting_pairs[online].ravel(), minlength=n)
        offline_contacts = np.bincount(self.meeting_pairs[~online].ravel(), minlength=n) + self.local_degree
        unmet_online = (1.0 - p.offline_depth) ** online_contacts  # changed: offline depth
        unmet_offline = (1.0 - p.offline_depth) ** offline_contacts
        self.support_online = np.where(self.in_need, 1.0 - unmet_online, 0.0)
        self.support_offline = np.where(self.in_need, 1.0 - unmet_offline, 0.0)
        self.support = np.where(self.in_need, 1.0 - unmet_online * unmet_offline, 0.0)

    monkeypatch.setattr(SolidarityModel, "_support", _support)


#: The mutations by name, the name being the cache key of the runs made with it.
MUTATIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "belonging_without_online_depth": belonging_without_online_depth,
    "no_leaving": no_leaving,
    "doubled_influence": doubled_influence,
    "random_similarity": random_similarity,
    "online_as_deep_as_offline": online_as_deep_as_offline,
}
