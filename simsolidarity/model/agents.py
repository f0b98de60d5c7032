"""People as Mesa agents: a thin face over the model's arrays.

The state of all people lives in numpy arrays held by :class:`~simsolidarity.model.model.SolidarityModel`
(one entry per person). A :class:`Person` stores only its row index; each attribute reads and
writes the model's array at that row, so ``person.opinion = 0.3`` changes the model and a step of
the model shows in ``person.opinion``. Row-valued attributes (``interests``, ``position``,
``memberships``) are numpy views of the row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

if TYPE_CHECKING:
    from simsolidarity.model.model import SolidarityModel


class ArrayField:
    """A descriptor that exposes row ``person.index`` of the model array of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, person: Person | None, owner: type) -> Any:
        if person is None:
            return self
        value = getattr(person.model, self.name)[person.index]
        # Scalars come back as Python numbers; rows stay numpy views so writes go through.
        return value.item() if np.ndim(value) == 0 else value

    def __set__(self, person: Person, value: Any) -> None:
        getattr(person.model, self.name)[person.index] = value


class Person(mesa.Agent):
    """One person of the model.

    Attributes:
        index: row of this person in the model's arrays.
        opinion: position on the contested issue, in [-1, 1].
        isolation: how isolated the person is where they live, in [0, 1].
        belonging: felt belonging, in [0, 1].
        online: whether the person has online access.
        interests: interest vector over ``n_topics`` topics (a view of the model's row).
        position: grid cell ``(x, y)`` (a view).
        memberships: virtual group ids the person belongs to, -1 for an empty slot (a view).
        block: the person's neighbourhood block, i.e. geographic group.
    """

    model: SolidarityModel
    opinion = ArrayField()
    isolation = ArrayField()
    belonging = ArrayField()
    online = ArrayField()
    interests = ArrayField()
    position = ArrayField()
    memberships = ArrayField()
    block = ArrayField()

    def __init__(self, model: SolidarityModel, index: int) -> None:
        """Create the face of row ``index`` of ``model``'s arrays."""
        super().__init__(model)
        self.index = int(index)

    @property
    def virtual_groups(self) -> list[int]:
        """Ids of the virtual groups the person is in."""
        return [int(g) for g in self.memberships if g >= 0]
