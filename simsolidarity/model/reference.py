"""The reference model: the rules of :class:`~simsolidarity.model.model.SolidarityModel`, one object per person.

Every person is a :class:`ReferencePerson` and every group a :class:`ReferenceGroup` (a virtual
group, or the geographic group of a neighbourhood block); a step is a sequence of plain loops
over them, in the order of the vectorized model:

1. **Recommend and join**: each person with online access is active online this step with
   chance ``online_activity``, moved in log-odds by ``compensation`` and what offline life gives
   them (:meth:`ReferenceModel.online_activity`); each person takes part offline with chance
   ``1 - isolation``.
   An active person with a free membership slot is shown the ``n_recommendations`` best-scored
   virtual groups they are not in (ties in random order) and joins, best first, those whose
   interest match (cosine of interests and topic) is at least ``join_threshold``, while a slot
   is free. Recommenders see the groups as they were at the start of the step.
2. **Meet**: a person is present in their block's group if taking part offline, and in each of
   their virtual groups if active online. In each of ``meetings_per_step`` rounds every present
   person attends one of their present groups at random; each group's attendees are paired by a
   random matching (an odd one out meets nobody; with ``feed_bias``, each unpaired attendee in random
   order picks a partner among the unpaired, closer opinions more likely), and a pair whose opinions
   differ by less than ``confidence`` moves together by ``influence`` times the difference
   (Deffuant–Weisbuch).
   Afterwards each person's exposure is the mean and spread of the opinions of the other people
   present in the groups they were present in (someone met in two groups counts twice).
   The virtual groups' size, mean opinion and topic are then brought up to date.
3. **Support**: each person has a need event with chance ``need_rate``. A person in need gets
   ``1 - prod(1 - depth)`` over their contacts of this step: the partners of their meetings
   (online depth in a virtual group, offline depth in a block) and their local ties with whom
   both took part offline this step (offline depth).
   People not in need get 0.
4. **Belonging**: moves by ``belonging_rate`` toward ``1 - (1 - identification)(1 - support)``.
   Identification is the larger of the offline part (opinion similarity ``1 - |x - m| / 2`` to
   the mean opinion ``m`` of the block's residents, if taking part offline) and the online part
   (the best opinion similarity to a virtual group's mean, if active online), each scaled by how
   fully its tie depth meets ``depth_need``.
5. **Leave**: a person leaves each virtual group whose mean opinion is farther from their own than
   ``leave_threshold``, and with ``leave_belonging`` each that gave an identification below it in
   three attended steps in a row; the groups' size, mean opinion and topic (the mean interests of the
   members, kept while a group is empty) are then brought up to date.

It is written to be read rather than to be fast: it exists to check the vectorized model (the
two agree in distribution, not draw for draw) and to measure how much faster that one is. Its
state is exposed as the arrays of :class:`~simsolidarity.model.outcomes.ObservedState`, so the outcomes
are measured by the very same functions.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from simsolidarity.errors import ParameterError
from simsolidarity.model.feed import FEED_CANDIDATES, FEED_DELTA
from simsolidarity.model.outcomes import OUTCOMES, measure, most_isolated_quartile, outcome_names
from simsolidarity.model.parameters import (
    COMPENSATION_GAIN,
    LOW_BELONGING_STEPS,
    Parameters,
    describe_parameters,
    parameters_as_keywords,
)


def _unit(vector: Sequence[float] | np.ndarray) -> tuple[float, ...]:
    """``vector`` scaled to length 1 (left as it is if it is all zeros), as a tuple of floats."""
    length = math.sqrt(sum(v * v for v in vector))
    return tuple(float(v) / length if length > 0 else float(v) for v in vector)


def _dot(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def depth_factor(depth: float, depth_need: float) -> float:
    """How fully a tie of ``depth`` meets a need for ``depth_need``: ``depth / depth_need``, at most 1."""
    if depth_need == 0:
        return 1.0
    return min(1.0, depth / depth_need)


class ReferenceGroup:
    """A group people meet in: a virtual group (an interest community) or a neighbourhood block.

    Attributes:
        index: the group's id: ``0 .. n_virtual_groups - 1`` for virtual groups, the block number
            for geographic groups.
        virtual: whether people meet online here (virtual group) or face to face (block).
        members: the virtual group's members, or the block's residents.
        topic: a virtual group's topic on the interest simplex (``None`` for a block).
        size, mean_opinion, unit_topic, members_by_block: a virtual group's number of members,
            their mean opinion (``nan`` when empty), its topic scaled to length 1, and how many
            members live in each block, as of the last :meth:`refresh`; recommending, joining,
            belonging and leaving read these, not the live member list.
        present: the people present in the group this step.
    """

    def __init__(self, index: int, virtual: bool, topic: np.ndarray | None = None) -> None:
        self.index = index
        self.virtual = virtual
        self.members: list[ReferencePerson] = []
        self.topic: tuple[float, ...] | None = None if topic is None else tuple(float(t) for t in topic)
        self.size = 0
        self.mean_opinion = math.nan
        self.unit_topic: tuple[float, ...] = () if topic is None else _unit(topic)
        self.members_by_block: Counter[int] = Counter()
        self.present: list[ReferencePerson] = []

    def refresh(self) -> None:
        """Bring size, mean opinion and block counts up to date; move the topic to the members' mean interests."""
        self.size = len(self.members)
        self.members_by_block = Counter(person.block.index for person in self.members)
        if self.size == 0:
            self.mean_opinion = math.nan  # an empty group keeps its topic
            return
        self.mean_opinion = sum(person.opinion for person in self.members) / self.size
        by_topic = zip(*(person.interests for person in self.members), strict=True)
        self.topic = tuple(sum(interest) / self.size for interest in by_topic)
        self.unit_topic = _unit(self.topic)

    def resident_mean_opinion(self) -> float:
        """Mean opinion of everyone in the group right now (for a block: all its residents)."""
        return sum(person.opinion for person in self.members) / len(self.members) if self.members else math.nan


class ReferencePerson:
    """One person of the reference model.

    Attributes:
        index: the person's number (their row in the exposed arrays).
        position: grid cell ``(x, y)``.
        block: the geographic group of the person's neighbourhood block.
        interests: interests over the topics (on the simplex); ``unit_interests`` scaled to length 1.
        opinion: position on the contested issue, in [-1, 1].
        isolation: how isolated the person is where they live, in [0, 1].
        online: whether the person has online access.
        belonging: felt belonging, in [0, 1].
        offline_belonging: the belonging offline life alone would give, moving like belonging.
        online_engagement: the share of recent steps active online, moving like belonging.
        neighbours: the people the person has a local tie with.
        groups: the virtual groups the person is in, in the order they were joined.
        low_belonging_steps: for each of those groups, the attended steps in a row it gave an
            identification below ``leave_belonging``.
        active_online, offline_present: whether the person is active online, and takes part
            offline, this step.
        present_in: the groups the person is present in this step (see :meth:`present_groups`).
        online_partners, offline_partners: this step's meeting partners in virtual groups and in
            the block (someone met twice appears twice).
        exposure_mean, exposure_spread: mean and standard deviation of the opinions met this step
            (``nan`` if nobody was met).
        in_need: whether the person had a need event this step.
        support, support_online, support_offline: support received this step (0 if not in need),
            in all and through online and face-to-face contacts only.
    """

    def __init__(
        self,
        index: int,
        position: tuple[int, int],
        block: ReferenceGroup,
        interests: np.ndarray,
        opinion: float,
        isolation: float,
        online: bool,
    ) -> None:
        self.index = index
        self.position = position
        self.block = block
        self.interests: tuple[float, ...] = tuple(float(v) for v in interests)
        self.unit_interests: tuple[float, ...] = _unit(interests)
        self.opinion = opinion
        self.isolation = isolation
        self.online = online
        self.belonging = 0.5
        self.offline_belonging = 0.5
        self.online_engagement = 0.0
        self.neighbours: list[ReferencePerson] = []
        self.groups: list[ReferenceGroup] = []
        self.low_belonging_steps: dict[ReferenceGroup, int] = {}
        self.group_identification: dict[ReferenceGroup, float] = {}
        self.active_online = False
        self.offline_present = False
        self.present_in: list[ReferenceGroup] = []
        self.online_partners: list[ReferencePerson] = []
        self.offline_partners: list[ReferencePerson] = []
        self.exposure_mean = math.nan
        self.exposure_spread = math.nan
        self.in_need = False
        self.support = 0.0
        self.support_online = 0.0
        self.support_offline = 0.0

    def present_groups(self) -> list[ReferenceGroup]:
        """The groups the person is present in this step: their block if offline, their virtual groups if online."""
        groups = [self.block] if self.offline_present else []
        if self.active_online:
            groups.extend(self.groups)
        return groups

    def interest_match(self, group: ReferenceGroup) -> float:
        """Cosine similarity of the person's interests and the group's topic, in [0, 1]."""
        return _dot(self.unit_interests, group.unit_topic)

    def opinion_similarity(self, group: ReferenceGroup) -> float:
        """``1 - |opinion - group's mean opinion| / 2``, in [0, 1]; 0.5 for an empty group."""
        if group.size == 0:
            return 0.5
        return 1.0 - abs(self.opinion - group.mean_opinion) / 2.0


#: A recommender's score of a group for a person (higher: shown first).
Score = Callable[["ReferenceModel", ReferencePerson, ReferenceGroup], float]


def _random_score(model: ReferenceModel, person: ReferencePerson, group: ReferenceGroup) -> float:
    """Every group equally likely: a uniform random score."""
    return float(model.rng.random())


def _similarity_score(model: ReferenceModel, person: ReferencePerson, group: ReferenceGroup) -> float:
    """Groups like the person: interest match and opinion similarity, mixed by ``homophily``."""
    homophily = model.params.homophily
    return (1.0 - homophily) * person.interest_match(group) + homophily * person.opinion_similarity(group)


def _popularity_score(model: ReferenceModel, person: ReferencePerson, group: ReferenceGroup) -> float:
    """Bigger groups first: the group's size over the largest group's size."""
    largest = max(g.size for g in model.virtual_groups)
    return group.size / max(largest, 1)


def _bridging_score(model: ReferenceModel, person: ReferencePerson, group: ReferenceGroup) -> float:
    """Shared interests, different opinions: interest match and opinion difference, mixed by ``diversity_weight``."""
    weight = model.params.diversity_weight
    return (1.0 - weight) * person.interest_match(group) + weight * (1.0 - person.opinion_similarity(group))


def _local_score(model: ReferenceModel, person: ReferencePerson, group: ReferenceGroup) -> float:
    """Groups of neighbours: the share of the group's members who live in the person's block."""
    return group.members_by_block[person.block.index] / max(group.size, 1)


def _hybrid_score(model: ReferenceModel, person: ReferencePerson, group: ReferenceGroup) -> float:
    """``similarity`` and ``bridging`` mixed by ``diversity_weight``."""
    weight = model.params.diversity_weight
    return (1.0 - weight) * _similarity_score(model, person, group) + weight * _bridging_score(model, person, group)


#: The recommenders the reference implements, by name, as a score of one group for one person:
#: ``random`` uniform on [0, 1); ``similarity`` ``(1 - homophily)`` interest match plus
#: ``homophily`` opinion similarity; ``popularity`` size over the largest size; ``bridging``
#: ``(1 - w)`` interest match plus ``w`` opinion difference (``w = diversity_weight``); ``local``
#: the share of the group's members living in the person's block; ``hybrid`` ``(1 - w)``
#: similarity plus ``w`` bridging.
REFERENCE_SCORES: dict[str, Score] = {
    "random": _random_score,
    "similarity": _similarity_score,
    "popularity": _popularity_score,
    "bridging": _bridging_score,
    "local": _local_score,
    "hybrid": _hybrid_score,
}


class ReferenceModel:
    """The model's rules with one Python object per person and per group.

    Args:
        parameters: model parameters by canonical name, or a
            :class:`~simsolidarity.model.parameters.Parameters`; any left out take their defaults.
        rng: seed or ``numpy.random.Generator``; the same parameters and seed give the same run.
        outcomes: names of the outcomes recorded in ``history`` each step (default: all), so that a
            run pays only for the measures it asks for.
        **overrides: the model parameters below, as keywords; they take precedence over ``parameters``.

    Raises:
        ParameterError: for an unknown name or a bad value, and for a recommender that the
            reference does not implement (only the built-in ones are).
        OutcomeError: for an unknown outcome name.

    Attributes:
        params: the validated parameters, read by the rules (``model.params.influence``).
        parameters: the same as a plain dict by canonical name.
        rng: the one source of randomness.
        steps: steps taken so far.
        people: every person, by index.
        virtual_groups: the virtual groups, by id.
        blocks: the geographic groups, by block number.
        local_ties: pairs of people tied as neighbours, each pair once.
        recorded: the names of the outcomes recorded in ``history``.
        history: one record per step, step 0 included: ``{"step": ..., outcome: value, ...}``.
    """

    @parameters_as_keywords
    def __init__(
        self,
        parameters: Mapping[str, Any] | Parameters | None = None,
        *,
        rng: Any = None,
        outcomes: Iterable[str] | None = None,
        **overrides: Any,
    ) -> None:
        self.params: Parameters = Parameters.from_mapping(parameters, **overrides)
        self.parameters: dict[str, Any] = self.params.as_dict()
        recommender = self.params.recommender
        if recommender not in REFERENCE_SCORES:
            implemented = ", ".join(REFERENCE_SCORES)
            raise ParameterError(
                "recommender", recommender, f"one of the recommenders the reference implements: {implemented}"
            )
        self.recorded: list[str] = outcome_names(outcomes)
        self.score: Score = REFERENCE_SCORES[recommender]
        self.rng = np.random.default_rng(rng)
        self.steps = 0
        self.n_people: int = self.params.n_people
        self.n_virtual_groups: int = self.params.n_virtual_groups

        self._make_blocks_and_people()
        self._tie_neighbours()
        self._open_virtual_groups()
        self.contacts: list[tuple[ReferencePerson, ReferencePerson, bool]] = self._local_contacts()
        self.history: list[dict[str, Any]] = []
        self._record()

    # --- initialization -------------------------------------------------------------------------

    def _make_blocks_and_people(self) -> None:
        """Blocks of ``block_size`` cells; people on distinct random cells, with their traits."""
        p, rng = self.params, self.rng
        width, height, side = p.width, p.height, p.block_size
        blocks_across, blocks_down = math.ceil(width / side), math.ceil(height / side)
        self.blocks = [ReferenceGroup(b, virtual=False) for b in range(blocks_across * blocks_down)]
        cells = rng.choice(width * height, size=self.n_people, replace=False)
        mean, concentration = p.isolation_mean, p.isolation_concentration
        self.people: list[ReferencePerson] = []
        for index, cell in enumerate(cells):
            x, y = int(cell) % width, int(cell) // width
            block = self.blocks[(y // side) * blocks_across + x // side]
            interests = rng.dirichlet(np.ones(p.n_topics))
            opinion = float(rng.uniform(-1.0, 1.0))
            if mean in (0.0, 1.0):  # Beta(0, c) and Beta(c, 0) are point masses at 0 and 1
                isolation = mean
            else:
                isolation = float(rng.beta(mean * concentration, (1.0 - mean) * concentration))
            online = bool(rng.random() < p.online_share)
            person = ReferencePerson(index, (x, y), block, interests, opinion, isolation, online)
            block.members.append(person)
            self.people.append(person)
        #: the quarter of people with the highest isolation (a boolean mask over people).
        self.most_isolated = most_isolated_quartile(np.array([person.isolation for person in self.people]))

    def _tie_neighbours(self) -> None:
        """Each pair of people within ``local_tie_radius`` (Moore) is tied with chance (1 - iso_i)(1 - iso_j).

        The radius in effect is at most ``max(width, height) - 1``, as in the vectorized model: a
        larger one reaches no other cell.
        """
        p = self.params
        radius = min(p.local_tie_radius, max(p.width, p.height) - 1)
        by_cell = {person.position: person for person in self.people}
        self.local_ties: list[tuple[ReferencePerson, ReferencePerson]] = []
        for person in self.people:
            x, y = person.position
            for dx in range(-radius, radius + 1):
                for dy in range(-radius, radius + 1):
                    other = by_cell.get((x + dx, y + dy))
                    if other is None or other.index <= person.index:
                        continue  # an empty cell, the person themselves, or a pair already looked at
                    if self.rng.random() < (1.0 - person.isolation) * (1.0 - other.isolation):
                        person.neighbours.append(other)
                        other.neighbours.append(person)
                        self.local_ties.append((person, other))

    def _open_virtual_groups(self) -> None:
        """Virtual groups, empty, each with a random topic on the interest simplex."""
        topics = self.params.n_topics
        self.virtual_groups = [
            ReferenceGroup(g, virtual=True, topic=self.rng.dirichlet(np.ones(topics)))
            for g in range(self.n_virtual_groups)
        ]

    def _local_contacts(self) -> list[tuple[ReferencePerson, ReferencePerson, bool]]:
        """The local ties as contacts ``(person, person, online=False)`` when both take part offline this step."""
        return [(a, b, False) for a, b in self.local_ties if a.offline_present and b.offline_present]

    # --- one step -------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance by one step: recommend and join, meet, support, belonging, leave; then record."""
        self.steps += 1
        self._recommend_and_join()
        self._meet()
        for group in self.virtual_groups:  # joins and meetings changed the groups
            group.refresh()
        self._support()
        self._update_belonging()
        self._leave()
        self._record()

    def _recommend_and_join(self) -> None:
        """Who is active online and who takes part offline; active people with a free slot are shown groups and join."""
        p, rng = self.params, self.rng
        for person in self.people:
            person.active_online = person.online and rng.random() < self.online_activity(person)
            person.offline_present = rng.random() < 1.0 - person.isolation
        for person in self.people:
            if person.active_online and len(person.groups) < p.max_memberships:
                for group in self.recommend(person):
                    if (
                        len(person.groups) < p.max_memberships
                        and person.interest_match(group) >= p.join_threshold
                    ):
                        person.groups.append(group)
                        group.members.append(person)

    def online_activity(self, person: ReferencePerson) -> float:
        """The person's chance to be active online: ``online_activity``, moved in log-odds by
        ``COMPENSATION_GAIN * compensation * (0.5 - offline_belonging)``."""
        p = self.params
        if p.compensation == 0 or p.online_activity in (0.0, 1.0):
            return p.online_activity
        log_odds = math.log(p.online_activity / (1.0 - p.online_activity))
        log_odds += COMPENSATION_GAIN * p.compensation * (0.5 - person.offline_belonging)
        return 1.0 / (1.0 + math.exp(-log_odds))

    def recommend(self, person: ReferencePerson) -> list[ReferenceGroup]:
        """The ``n_recommendations`` best-scored virtual groups ``person`` is not in, best first, ties at random."""
        candidates = [group for group in self.virtual_groups if group not in person.groups]
        shuffled = [candidates[i] for i in self.rng.permutation(len(candidates))]
        scored = [(self.score(self, person, group), group) for group in shuffled]
        scored.sort(key=lambda pair: pair[0], reverse=True)  # a stable sort keeps tied groups shuffled
        return [group for _, group in scored[: self.params.n_recommendations]]

    def _meet(self) -> None:
        """Meeting rounds in the groups people are present in, with bounded-confidence influence; then exposure."""
        p, rng = self.params, self.rng
        for group in self.blocks + self.virtual_groups:
            group.present = []
        for person in self.people:
            person.online_partners, person.offline_partners = [], []
            person.present_in = person.present_groups()
            for group in person.present_in:
                group.present.append(person)
        self.contacts = []
        for _ in range(p.meetings_per_step):
            attendees: dict[ReferenceGroup, list[ReferencePerson]] = defaultdict(list)
            for person in self.people:
                if person.present_in:  # one of the person's present groups, each equally likely
                    attended = person.present_in[int(rng.random() * len(person.present_in))]
                    attendees[attended].append(person)
            for group, people in attendees.items():
                order = [people[i] for i in rng.permutation(len(people))]
                pairs = list(zip(order[0::2], order[1::2], strict=False))  # an odd one out meets nobody
                if p.feed_bias > 0:
                    # Feed ranking instead: each unpaired one, in order, picks a partner among the next
                    # FEED_CANDIDATES unpaired, with chance proportional to (|gap| + FEED_DELTA) ** -feed_bias.
                    pairs, unpaired = [], order
                    while len(unpaired) > 1:
                        a, candidates = unpaired[0], unpaired[1 : 1 + FEED_CANDIDATES]
                        gaps = [abs(c.opinion - a.opinion) + FEED_DELTA for c in candidates]
                        nearest = min(gaps)  # weights relative to the nearest's, which is 1: no overflow
                        weights = [(nearest / gap) ** p.feed_bias for gap in gaps]
                        cumulative = np.cumsum(weights)
                        target = rng.random() * cumulative[-1]
                        b = next((c for c, w in zip(candidates, cumulative, strict=True) if w > target), candidates[-1])
                        pairs.append((a, b))
                        unpaired = [c for c in unpaired[1:] if c is not b]
                for a, b in pairs:
                    self._influence(a, b)
                    (a.online_partners if group.virtual else a.offline_partners).append(b)
                    (b.online_partners if group.virtual else b.offline_partners).append(a)
                    self.contacts.append((a, b, group.virtual))
        self.contacts.extend(self._local_contacts())
        for person in self.people:
            self._expose(person)

    def _influence(self, a: ReferencePerson, b: ReferencePerson) -> None:
        """Bounded confidence: if closer than ``confidence``, both move toward each other by ``influence`` x gap."""
        gap = b.opinion - a.opinion
        if abs(gap) < self.params.confidence:
            a.opinion += self.params.influence * gap
            b.opinion -= self.params.influence * gap

    @staticmethod
    def _expose(person: ReferencePerson) -> None:
        """Mean and standard deviation of the opinions of the others present in the person's present groups."""
        met = [other.opinion for group in person.present_in for other in group.present if other is not person]
        if met:
            mean = sum(met) / len(met)
            person.exposure_mean = mean
            person.exposure_spread = math.sqrt(sum((o - mean) ** 2 for o in met) / len(met))
        else:
            person.exposure_mean = person.exposure_spread = math.nan

    def _support(self) -> None:
        """A need event with chance ``need_rate``; each contact meets it with the chance of its depth."""
        p = self.params
        for person in self.people:
            person.in_need = bool(self.rng.random() < p.need_rate)
            if not person.in_need:
                person.support = person.support_online = person.support_offline = 0.0
                continue
            neighbours_met = sum(person.offline_present and other.offline_present for other in person.neighbours)
            offline_contacts = len(person.offline_partners) + neighbours_met
            unmet_online = (1.0 - p.online_depth) ** len(person.online_partners)
            unmet_offline = (1.0 - p.offline_depth) ** offline_contacts
            person.support_online = 1.0 - unmet_online
            person.support_offline = 1.0 - unmet_offline
            person.support = 1.0 - unmet_online * unmet_offline

    def _update_belonging(self) -> None:
        """Belonging moves toward identification with the groups taken part in, combined with support."""
        p = self.params
        offline_factor = depth_factor(p.offline_depth, p.depth_need)
        online_factor = depth_factor(p.online_depth, p.depth_need)
        block_opinion = {block.index: block.resident_mean_opinion() for block in self.blocks}
        for person in self.people:
            offline = online = 0.0
            if person.offline_present:
                offline = (1.0 - abs(person.opinion - block_opinion[person.block.index]) / 2.0) * offline_factor
            person.group_identification = {}
            if person.active_online and person.groups:
                person.group_identification = {g: person.opinion_similarity(g) * online_factor for g in person.groups}
                online = max(person.group_identification.values())
            identification = max(offline, online)
            target = 1.0 - (1.0 - identification) * (1.0 - person.support)
            person.belonging += p.belonging_rate * (target - person.belonging)
            offline_target = 1.0 - (1.0 - offline) * (1.0 - person.support_offline)
            person.offline_belonging += p.belonging_rate * (offline_target - person.offline_belonging)
            person.online_engagement += p.belonging_rate * (float(person.active_online) - person.online_engagement)

    def _leave(self) -> None:
        """Leave every virtual group whose mean opinion is farther than ``leave_threshold``; groups then follow."""
        p = self.params
        for person in self.people:
            leaving = [g for g in person.groups if abs(person.opinion - g.mean_opinion) > p.leave_threshold]
            if p.leave_belonging > 0:
                # attended groups (those with an identification this step) count low steps in a row
                for group, identification in person.group_identification.items():
                    low = identification < p.leave_belonging
                    person.low_belonging_steps[group] = person.low_belonging_steps.get(group, 0) + 1 if low else 0
                leaving += [g for g in person.groups if g not in leaving
                            and person.low_belonging_steps.get(g, 0) >= LOW_BELONGING_STEPS]
            for group in leaving:
                person.groups.remove(group)
                group.members.remove(person)
                person.low_belonging_steps.pop(group, None)
        for group in self.virtual_groups:
            group.refresh()

    def _record(self) -> None:
        """Append this step's record of the recorded outcomes to ``history``."""
        self.history.append({"step": self.steps, **{name: OUTCOMES[name].report(self) for name in self.recorded}})

    # --- the state as arrays (the attributes of outcomes.ObservedState) --------------------------

    def _each(self, attribute: str, dtype: Any = float) -> np.ndarray:
        return np.array([getattr(person, attribute) for person in self.people], dtype=dtype)

    @property
    def opinion(self) -> np.ndarray:
        """(people,) opinion on the contested issue, in [-1, 1]."""
        return self._each("opinion")

    @property
    def belonging(self) -> np.ndarray:
        """(people,) felt belonging, in [0, 1]."""
        return self._each("belonging")

    @property
    def isolation(self) -> np.ndarray:
        """(people,) isolation where the person lives, in [0, 1]."""
        return self._each("isolation")

    @property
    def online(self) -> np.ndarray:
        """(people,) whether the person has online access."""
        return self._each("online", bool)

    @property
    def active_online(self) -> np.ndarray:
        """(people,) whether the person was active online this step."""
        return self._each("active_online", bool)

    @property
    def offline_present(self) -> np.ndarray:
        """(people,) whether the person took part offline this step."""
        return self._each("offline_present", bool)

    @property
    def interests(self) -> np.ndarray:
        """(people, n_topics) interests on the simplex."""
        return np.array([person.interests for person in self.people])

    @property
    def block(self) -> np.ndarray:
        """(people,) the block (geographic group) each person lives in."""
        return np.array([person.block.index for person in self.people], dtype=np.intp)

    @property
    def position(self) -> np.ndarray:
        """(people, 2) grid cell (x, y)."""
        return np.array([person.position for person in self.people], dtype=np.intp).reshape(self.n_people, 2)

    @property
    def memberships(self) -> np.ndarray:
        """(people, max_memberships) virtual group ids in the order joined, -1 for a free slot."""
        table = np.full((self.n_people, self.params.max_memberships), -1, dtype=np.intp)
        for person in self.people:
            for slot, group in enumerate(person.groups):
                table[person.index, slot] = group.index
        return table

    @property
    def group_size(self) -> np.ndarray:
        """(groups,) members per virtual group."""
        return np.array([len(group.members) for group in self.virtual_groups], dtype=np.intp)

    @property
    def group_opinion(self) -> np.ndarray:
        """(groups,) mean opinion of each virtual group's members, ``nan`` when empty."""
        return np.array([group.mean_opinion for group in self.virtual_groups], dtype=float)

    @property
    def exposure_mean(self) -> np.ndarray:
        """(people,) mean opinion met this step, ``nan`` if nobody was met."""
        return self._each("exposure_mean")

    @property
    def exposure_spread(self) -> np.ndarray:
        """(people,) standard deviation of the opinions met this step, ``nan`` if nobody was met."""
        return self._each("exposure_spread")

    @property
    def in_need(self) -> np.ndarray:
        """(people,) whether the person had a need event this step."""
        return self._each("in_need", bool)

    @property
    def support(self) -> np.ndarray:
        """(people,) support received this step, in [0, 1]."""
        return self._each("support")

    @property
    def support_online(self) -> np.ndarray:
        """(people,) support received this step through online contacts only."""
        return self._each("support_online")

    @property
    def support_offline(self) -> np.ndarray:
        """(people,) support received this step through face-to-face contacts only."""
        return self._each("support_offline")

    def _support_share(self, through: Callable[[ReferencePerson, ReferencePerson], bool]) -> np.ndarray:
        """(people,) each person's depth-weighted share of this step's contacts for which ``through`` holds."""
        p = self.params
        total, part = [0.0] * len(self.people), [0.0] * len(self.people)
        for a, b, online in self.contacts:
            depth = p.online_depth if online else p.offline_depth
            for person in (a, b):
                total[person.index] += depth
                part[person.index] += depth if through(a, b) else 0.0
        return np.array([s / t if t > 0 else math.nan for s, t in zip(part, total, strict=True)])

    @property
    def support_bridging_share(self) -> np.ndarray:
        """(people,) depth-weighted share of this step's contacts whose opinions lie ``confidence`` or more apart."""
        return self._support_share(lambda a, b: abs(a.opinion - b.opinion) >= self.params.confidence)

    @property
    def support_local_share(self) -> np.ndarray:
        """(people,) depth-weighted share of this step's contacts with someone of the same block."""
        return self._support_share(lambda a, b: a.block is b.block)

    @property
    def online_engagement(self) -> np.ndarray:
        """(people,) the share of recent steps each person was active online."""
        return self._each("online_engagement")

    @property
    def contact_pairs(self) -> np.ndarray:
        """(contacts, 2) the two people of each of this step's contacts: meetings, then local ties."""
        return np.array([(a.index, b.index) for a, b, _ in self.contacts], dtype=np.intp).reshape(-1, 2)

    @property
    def contact_online(self) -> np.ndarray:
        """(contacts,) whether each of this step's contacts was an online meeting."""
        return np.array([online for _, _, online in self.contacts], dtype=bool)

    @property
    def contact_distance(self) -> np.ndarray:
        """(contacts,) Euclidean grid distance between the two people of each of this step's contacts."""
        return np.array(
            [math.dist(a.position, b.position) for a, b, _ in self.contacts], dtype=float
        )

    def outcomes(self) -> dict[str, float]:
        """Every outcome of the current state, by canonical name."""
        return measure(self)


ReferenceModel.__doc__ += f"""
    Model parameters (keyword-only, or by name in ``parameters``), as for
    :class:`~simsolidarity.model.model.SolidarityModel`:
{describe_parameters(indent="        ")}
"""
