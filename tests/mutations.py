"""Changed rules of the vectorized model, for showing that the reference comparison notices them.

Each mutation is a function that takes a ``pytest.MonkeyPatch`` and swaps one rule of
:class:`~simsolidarity.model.model.SolidarityModel` (or one recommender) for a changed one, said in its
docstring: the rule itself run with a parameter changed for it alone where that is the change, else a
copy of its few lines with one changed. The swap lasts as long as the monkeypatch: the comparison applies
it around the runs it makes with that mutation and undoes it straight after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.parameters import Parameters
from simsolidarity.model.recommenders import RECOMMENDERS


def _with_parameters(method: str, change: Callable[[Parameters], dict[str, float]]) -> Callable[..., None]:
    """``SolidarityModel.<method>`` run with some parameters changed for it alone (the model keeps its own)."""
    original = getattr(SolidarityModel, method)

    def changed(self: SolidarityModel) -> None:
        params = self.params
        self.params = dataclasses.replace(params, **change(params))
        try:
            original(self)
        finally:
            self.params = params

    return changed


def belonging_without_online_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Belonging: identification with a virtual group is not scaled by how fully online depth meets ``depth_need``.

    The belonging rule runs with an online depth that meets the need (its factor is then 1), and reads the
    online depth nowhere else.
    """
    monkeypatch.setattr(SolidarityModel, "_update_belonging", _with_parameters(
        "_update_belonging", lambda p: {"online_depth": max(p.online_depth, p.depth_need)}))


def no_leaving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave: nobody leaves a virtual group, however far its mean opinion (``leave_threshold`` ignored).

    The groups are still brought up to date, as after leaving, so that only the leaving rule changes.
    """
    monkeypatch.setattr(SolidarityModel, "_leave", lambda self: self._refresh_groups())


def doubled_influence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Meet: a close pair moves together by twice ``influence`` times the difference.

    The meeting rule runs with twice the parameter; it reads ``influence`` nowhere else.
    """
    monkeypatch.setattr(SolidarityModel, "_meet", _with_parameters("_meet", lambda p: {"influence": 2 * p.influence}))


def random_similarity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recommend: the ``similarity`` recommender scores groups at random (the reference's scores are untouched)."""
    monkeypatch.setitem(RECOMMENDERS, "similarity", RECOMMENDERS["random"])


def online_as_deep_as_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Support: an online contact carries ``offline_depth``, as deep as a face-to-face one."""
    monkeypatch.setattr(SolidarityModel, "_support", _with_parameters(
        "_support", lambda p: {"online_depth": p.offline_depth}))


#: The mutations by name, the name being the cache key of the runs made with it.
MUTATIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "belonging_without_online_depth": belonging_without_online_depth,
    "no_leaving": no_leaving,
    "doubled_influence": doubled_influence,
    "random_similarity": random_similarity,
    "online_as_deep_as_offline": online_as_deep_as_offline,
}
