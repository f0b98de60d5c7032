"""People as Mesa agents: a thin face over the model's arrays.

The state of all people lives in numpy arrays held by :class:`~simsolidarity.model.model.SolidarityModel`
(one entry per person). A :class:`Person` stores only its row index; each attribute reads and
writes the model's array at that row, so ``person.opinion = 0.3`` changes the model and a step of
the model shows in ``person.opinion``. Row-valued attributes (``interests``, ``position``,
``memberships``) are numpy views of the row.

The arrays stay true to the model through the agents: a write is checked against the attribute's
range (:class:`PersonValueError` otherwise), what the model's own rules decide (place, block,
memberships, this step's activity and support) cannot be written, and a person cannot be removed,
since the arrays have one row per person for the model's whole life.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from simsolidarity.errors import SimsolidarityError, shown

if TYPE_CHECKING:
    from simsolidarity.model.model import SolidarityModel


class PersonError(SimsolidarityError):
    """Something was asked of a :class:`Person` that the model's arrays cannot hold (removing the person)."""


class PersonValueError(PersonError, ValueError):
    """A value written to a person's attribute is of the wrong kind or out of the attribute's range.

    Attributes:
        person: the person's ``unique_id``.
        attribute: the attribute written, e.g. ``opinion``.
        value: the value that was given.
        expected: what would have been accepted, in words.
    """

    def __init__(self, person: int, attribute: str, value: Any, expected: str) -> None:
        self.person, self.attribute, self.value, self.expected = person, attribute, value, expected
        super().__init__(f"person {person}: {attribute} = {shown(value)}: expected {expected}")


class Refused(str):
    """What a :data:`Check` returns for a value it refuses: the accepted range, in words."""


#: Checks a value written to an attribute of a person: returns what is stored, or :class:`Refused`.
Check = Callable[["Person", Any], Any]


def within(low: float, high: float) -> Check:
    """A check for a real number in ``[low, high]`` (not a bool, not nan)."""

    def check(person: Person, value: Any) -> Any:
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real) or not low <= value <= high:
            return Refused(f"a number in [{low:g}, {high:g}]")
        return float(value)

    return check


def flag(person: Person, value: Any) -> Any:
    """A check for ``True`` or ``False`` (numbers are refused: ``online = 0.5`` is a mistake, not a flag)."""
    return bool(value) if isinstance(value, bool | np.bool_) else Refused("True or False")


def weights_over_topics(person: Person, value: Any) -> Any:
    """A check for an interest vector: ``n_topics`` finite non-negative weights."""
    topics = person.model.interests.shape[1]
    expected = Refused(f"{topics} finite non-negative weights, one per topic")
    try:
        row = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return expected
    if row.shape != (topics,) or not np.all(np.isfinite(row)) or np.any(row < 0):
        return expected
    return row


class ArrayField:
    """A descriptor that exposes row ``person.index`` of the model array of the same name.

    Args:
        check: checks each written value (see :data:`Check`); without one the attribute is
            read-only, being set by the model's own rules.
        row_writable: for a row-valued attribute, whether the numpy view it returns can be written
            through (``person.interests[0] = 0.7``); a read-only attribute's view never can.
    """

    def __init__(self, check: Check | None = None, *, row_writable: bool = False) -> None:
        self.check = check
        self.row_writable = row_writable and check is not None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, person: Person | None, owner: type) -> Any:
        if person is None:
            return self
        value = getattr(person.model, self.name)[person.index]
        # Scalars come back as Python numbers; rows stay numpy views so that they follow the model.
        if np.ndim(value) == 0:
            return value.item()
        if not self.row_writable:
            value.flags.writeable = False  # this view only; the model's array stays writable
        return value

    def __set__(self, person: Person, value: Any) -> None:
        if self.check is None:
            raise AttributeError(f"Person.{self.name} is read-only: the model's rules set it")
        stored = self.check(person, value)
        if isinstance(stored, Refused):
            raise PersonValueError(person.unique_id, self.name, value, stored)
        getattr(person.model, self.name)[person.index] = stored


class Person(mesa.Agent):
    """One person of the model.

    Writable attributes are checked (:class:`PersonValueError` for a value out of range); the
    others are read-only (``AttributeError``). Writes take effect from the model's next use of the
    array: group means are refreshed in the next step; ``most_isolated`` and the local ties were
    drawn from the isolation at the start and are not drawn again.

    Attributes:
        index: row of this person in the model's arrays.
        opinion: position on the contested issue, in [-1, 1] (writable).
        isolation: how isolated the person is where they live, in [0, 1] (writable).
        belonging: felt belonging, in [0, 1] (writable).
        online: whether the person has online access (writable, True or False).
        interests: interest vector over ``n_topics`` topics, drawn on the simplex (a view of the
            model's row, writable through it; a whole new row must hold non-negative weights).
        position: grid cell ``(x, y)`` (a read-only view).
        memberships: virtual group ids the person belongs to, valid ones first, -1 for an empty
            slot (a read-only view: people join and leave groups by the model's rules).
        block: the person's neighbourhood block, i.e. geographic group (read-only).
        local_degree: how many local ties the person has (read-only).
        active_online: whether the person was active online this step (read-only).
        offline_present: whether the person took part offline this step (read-only).
        in_need: whether a need event hit the person this step (read-only).
        support: support received this step, in [0, 1] (read-only).
        offline_belonging: the belonging offline life alone gives, in [0, 1] (read-only).
        online_engagement: share of recent steps the person was active online, in [0, 1] (read-only).
    """

    model: SolidarityModel
    opinion = ArrayField(within(-1.0, 1.0))
    isolation = ArrayField(within(0.0, 1.0))
    belonging = ArrayField(within(0.0, 1.0))
    online = ArrayField(flag)
    interests = ArrayField(weights_over_topics, row_writable=True)
    position = ArrayField()
    memberships = ArrayField()
    block = ArrayField()
    local_degree = ArrayField()
    active_online = ArrayField()
    offline_present = ArrayField()
    in_need = ArrayField()
    support = ArrayField()
    offline_belonging = ArrayField()
    online_engagement = ArrayField()

    def __init__(self, model: SolidarityModel, index: int) -> None:
        """Create the face of row ``index`` of ``model``'s arrays."""
        super().__init__(model)
        self.index = int(index)

    @property
    def virtual_groups(self) -> list[int]:
        """Ids of the virtual groups the person is in."""
        return [int(g) for g in self.memberships if g >= 0]

    def remove(self) -> None:
        """Refused: the model's arrays have one row per person for the model's whole life.

        Raises:
            PersonError: always, naming the person.
        """
        raise PersonError(
            f"person {self.unique_id} cannot be removed: this model keeps a fixed population (its arrays have "
            "one row per person for the whole run); to leave someone out, build a model with fewer people"
        )
