"""The vectorized model: people, geographic and virtual groups, and one step of solidarity.

All state lives in numpy arrays, one entry per person (or per group); a step is vectorized over
people and groups, and Python loops run only over meeting rounds and grid offsets. Each rule of a
step is one pass of a compiled kernel (:mod:`simsolidarity.model.kernels`) over arrays of random
numbers the model draws with ``model.rng``; only the recommender's scores are numpy, since a
recommender is any function that returns them.
People are also reachable as Mesa agents (:class:`~simsolidarity.model.agents.Person`) whose attributes
are views on these arrays; they are created the first time ``model.agents`` is read, so a large
run that never asks for them does not pay for them.

One step, in this fixed order (every random draw from ``model.rng``):

1. **Recommend**: who is active online (``online_activity``, moved by ``compensation`` by what offline
   life gives the person) and who takes part offline this step is drawn; each active
   person with a free membership slot is shown ``n_recommendations`` virtual groups by the
   recommender and joins those whose interest match passes ``join_threshold``.
2. **Meet**: in ``meetings_per_step`` rounds, each person present in some group (their block's
   geographic group if taking part offline, their virtual groups if active online) attends one
   of them at random, and each group's attendees are paired by a random matching (with
   ``feed_bias``, partners of closer opinion more likely, as a feed ranks them); a pair closer
   than ``confidence`` moves together by ``influence`` times the difference (Deffuant–Weisbuch).
   Each person's exposure is the opinions of the co-members of the groups they were present in.
3. **Support**: people hit by a need event (``need_rate``) receive support from this step's
   contacts (meeting partners, and local ties when both take part offline), each scaled by its depth.
4. **Belonging**: moves by ``belonging_rate`` toward a target made of identification with the
   groups the person took part in (opinion similarity, weighted by depth against ``depth_need``)
   and of the support received; it decays toward 0 without participation. What offline life alone
   gives (``offline_belonging``) and how often the person is online (``online_engagement``) move alike.
5. **Leave**: a person leaves each virtual group whose mean opinion is farther than
   ``leave_threshold`` (unfollowing), and with ``leave_belonging`` each that gave little identification
   for three attended steps in a row; groups' topics then follow their members.

Before anything is allocated, a model whose estimated memory exceeds what is available is refused
(:mod:`simsolidarity.model.memory`), and no parameter makes building or a step take time out of
proportion to the memory it needs (a radius beyond the grid, a huge sparse grid, many topics).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mesa
import numpy as np

from simsolidarity.model.agents import Person
from simsolidarity.model.feed import biased_matching
from simsolidarity.model.kernels import (
    attend,
    compiled,
    contact_sources,
    contact_support,
    exposure,
    group_opinions,
    influence,
    leave,
    local_contacts,
    members_by_block,
    move_topics,
    pair_distances,
    pair_in_order,
    power_table,
    scratch,
    show_and_join,
    similarity,
    take_part,
    update_belonging,
)
from simsolidarity.model.memory import DENSE_CELLS_PER_PERSON, RECOMMEND_CHUNK, check_memory
from simsolidarity.model.outcomes import OUTCOMES, measure, most_isolated_quartile, outcome_names
from simsolidarity.model.parameters import (
    COMPENSATION_GAIN,
    LOW_BELONGING_STEPS,
    Parameters,
    describe_parameters,
    parameters_as_keywords,
)
from simsolidarity.model.recommenders import RECOMMENDERS, checked_scores

#: Recommender scores closer than this count as tied; ties are broken at random, not by group id.
SCORE_RESOLUTION = 1e-9


def _depth_factor(depth: float, depth_need: float) -> float:
    """How fully a tie of ``depth`` meets a need for ``depth_need`` (1 when it is deep enough)."""
    return 1.0 if depth >= depth_need else depth / depth_need


def neighbour_pairs(position: np.ndarray, width: int, height: int, radius: int) -> np.ndarray:
    """(pairs, 2) every pair of people on cells at most ``radius`` apart (Moore, i.e. Chebyshev), once.

    The radius in effect is at most ``max(width, height) - 1``: a larger one reaches no other
    cell. Each pair is ``(first, second)`` with ``second`` on a later row, or on the same row to
    the right; pairs come in order of the offset ``(dy, dx)`` (``dy`` from 0 up, then ``dx`` from
    ``-radius`` up), then of ``first``. A dense grid (at most :data:`DENSE_CELLS_PER_PERSON` cells a
    person) is scanned offset by offset, a sparse one by buckets; both give the same pairs in the
    same order, in time about proportional to the people and the pairs.
    """
    radius = min(radius, max(width, height) - 1)
    if radius < 1:
        return np.empty((0, 2), dtype=np.intp)
    if width * height <= DENSE_CELLS_PER_PERSON * len(position):
        return _pairs_by_offset(position, width, height, radius)
    return _pairs_by_bucket(position, width, radius)


def _pairs_by_offset(position: np.ndarray, width: int, height: int, radius: int) -> np.ndarray:
    n = len(position)
    x, y = position[:, 0], position[:, 1]
    occupant = np.full((height, width), -1)
    occupant[y, x] = np.arange(n)
    candidates = []
    # Half of the Moore neighbourhood, so that each unordered pair is looked at once.
    for dy in range(min(radius, height - 1) + 1):
        for dx in range(-min(radius, width - 1), min(radius, width - 1) + 1):
            if dy == 0 and dx <= 0:
                continue
            nx, ny = x + dx, y + dy
            inside = np.flatnonzero((nx >= 0) & (nx < width) & (ny < height))
            neighbour = occupant[ny[inside], nx[inside]]
            taken = neighbour >= 0
            candidates.append(np.column_stack([inside[taken], neighbour[taken]]))
    return np.concatenate(candidates) if candidates else np.empty((0, 2), dtype=np.intp)


#: Bucket offsets ``(bx, by)`` that reach every pair of distinct buckets once: the bucket itself and
#: the four after it.
_FORWARD_BUCKETS = ((0, 0), (1, 0), (-1, 1), (0, 1), (1, 1))


def _pairs_by_bucket(position: np.ndarray, width: int, radius: int) -> np.ndarray:
    """Pairs within ``radius`` on a sparse grid: people in square buckets of side ``radius``.

    Two people within the radius are in the same bucket or in neighbouring ones, so only those
    pairs are looked at: about 2.5 times the pairs within the radius, whatever the grid's size.
    """
    n = len(position)
    x, y = position[:, 0], position[:, 1]
    across = -(-width // radius) + 2  # buckets in a row, with a spare one on each side
    bucket = (y // radius) * across + x // radius + 1
    order = np.argsort(bucket, kind="stable")
    sorted_bucket = bucket[order]
    firsts, seconds, across_offsets, down_offsets = [], [], [], []
    for bx, by in _FORWARD_BUCKETS:
        target = bucket + (by * across + bx)
        start = np.searchsorted(sorted_bucket, target, side="left")
        count = np.searchsorted(sorted_bucket, target, side="right") - start
        first = np.repeat(np.arange(n), count)
        second = order[np.repeat(start - (np.cumsum(count) - count), count) + np.arange(first.size)]
        dx, dy = x[second] - x[first], y[second] - y[first]
        backward = (dy < 0) | ((dy == 0) & (dx < 0))
        keep = (np.abs(dx) <= radius) & (np.abs(dy) <= radius)
        if (bx, by) == (0, 0):  # both orders of a pair come up, and each person with themselves: keep one
            keep &= ~backward & (first != second)
        first, second, dx, dy, backward = first[keep], second[keep], dx[keep], dy[keep], backward[keep]
        firsts.append(np.where(backward, second, first))
        seconds.append(np.where(backward, first, second))
        across_offsets.append(np.where(backward, -dx, dx))
        down_offsets.append(np.where(backward, -dy, dy))
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    by_offset = np.lexsort((first, np.concatenate(across_offsets), np.concatenate(down_offsets)))
    return np.column_stack([first[by_offset], second[by_offset]])


class SolidarityModel(mesa.Model):
    """Agent-based model of online and offline social solidarity.

    Args:
        parameters: model parameters by canonical name (see :data:`~simsolidarity.model.parameters.PARAMETERS`),
            or a :class:`~simsolidarity.model.parameters.Parameters`; any left out take their defaults.
        rng: seed or ``numpy.random.Generator``; the same parameters and seed give the same run.
        outcomes: names of the outcomes the ``datacollector`` records each step (default: all), so
            that a run pays only for the measures it asks for.
        **overrides: the model parameters below, as keywords (as ``mesa.batch_run`` passes them);
            they take precedence over ``parameters``.

    Raises:
        ParameterError: before any work, for an unknown name or a bad value.
        OutcomeError: for an unknown outcome name.
        CapacityError: before anything is allocated, for a model too large for the memory available
            (see :func:`~simsolidarity.model.memory.estimate_memory`).
        RecommenderError: in a step, for a recommender that raises or returns unusable scores.

    Attributes:
        params: the validated parameters, read by the model's rules (``model.params.influence``).
        parameters: the same as a plain dict by canonical name, as scenarios and manifests hold them.
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
        params = Parameters.from_mapping(parameters, **overrides)
        resolved = params.as_dict()
        collected = outcome_names(outcomes)
        check_memory(resolved, n_outcomes=len(collected))
        self._people_created = False
        super().__init__(rng=rng)
        self.params: Parameters = params
        self.parameters: dict[str, Any] = resolved
        self.n_people: int = params.n_people
        self.n_virtual_groups: int = params.n_virtual_groups
        self.recommender = RECOMMENDERS[params.recommender]

        self._place_people()
        self._draw_traits()
        self._tie_locally()
        self._open_groups()
        self._clear_step_state()

        self.datacollector = mesa.DataCollector(
            model_reporters={"step": "steps", **{name: OUTCOMES[name].report for name in collected}}
        )
        self.datacollector.collect(self)

    # --- initialization -------------------------------------------------------------------------

    def _place_people(self) -> None:
        """Put each person on a distinct grid cell and into the geographic group of its block."""
        p = self.params
        width, height, side = p.width, p.height, p.block_size
        cells = self.rng.choice(width * height, size=self.n_people, replace=False)
        blocks_across = -(-width // side)  # whole-number ceilings: exact on any grid
        self.n_blocks = blocks_across * -(-height // side)
        block = (cells // width // side) * blocks_across + cells % width // side
        # People are numbered block by block (row by row inside a block): which cells are taken is what
        # is random, not the numbering, and neighbours with near numbers make every pass over a block's
        # people or a person's local ties read memory in order.
        order = np.lexsort((cells, block))
        cells = cells[order]
        #: (people, 2) grid cell (x, y) of each person.
        self.position = np.column_stack([cells % width, cells // width])
        #: (people,) the person's neighbourhood block, i.e. geographic group.
        self.block = block[order]

    def _draw_traits(self) -> None:
        p, n, rng = self.params, self.n_people, self.rng
        #: (people, n_topics) interests on the simplex.
        self.interests = rng.dirichlet(np.ones(p.n_topics), size=n)
        #: (people,) opinion on the contested issue, uniform on [-1, 1] at the start.
        self.opinion = rng.uniform(-1.0, 1.0, size=n)
        mean, concentration = p.isolation_mean, p.isolation_concentration
        if 0.0 < mean < 1.0:
            isolation = rng.beta(mean * concentration, (1.0 - mean) * concentration, size=n)
        else:  # the Beta distribution degenerates to a point mass at 0 or 1
            isolation = np.full(n, mean)
        #: (people,) isolation where the person lives, in [0, 1].
        self.isolation = isolation
        #: (people,) whether the person has online access.
        self.online = rng.random(n) < p.online_share
        #: (people,) felt belonging, starting at the middle of the scale.
        self.belonging = np.full(n, 0.5)
        #: (people,) the belonging offline life alone would give (local identification and support),
        #: moving like belonging: what ``compensation`` responds to.
        self.offline_belonging = np.full(n, 0.5)
        #: (people,) online engagement: the share of recent steps the person was active online (moving
        #: toward this step's activity at ``belonging_rate``), from 0 at the start.
        self.online_engagement = np.zeros(n)
        #: (people,) the quarter of people with the highest isolation.
        self.most_isolated = most_isolated_quartile(self.isolation)

    def _tie_locally(self) -> None:
        """Tie neighbours within ``local_tie_radius``; each tie forms with chance (1 - iso_i)(1 - iso_j).

        The radius in effect is at most ``max(width, height) - 1``, which already reaches every
        cell: a larger one changes nothing and costs nothing (see :func:`neighbour_pairs`).
        """
        p, n = self.params, self.n_people
        pairs = neighbour_pairs(self.position, p.width, p.height, p.local_tie_radius)
        chance = (1.0 - self.isolation[pairs[:, 0]]) * (1.0 - self.isolation[pairs[:, 1]])
        #: (ties, 2) local ties between grid neighbours.
        self.local_ties = pairs[self.rng.random(len(pairs)) < chance]
        #: (people,) number of local ties of each person.
        self.local_degree = np.bincount(self.local_ties.ravel(), minlength=n)
        self._most_local_ties = int(self.local_degree.max(initial=0))
        #: (ties,) grid distance of each local tie.
        self.local_tie_distance = compiled(pair_distances)(self.local_ties, self.position)

    def _open_groups(self) -> None:
        p, g = self.params, self.n_virtual_groups
        #: (groups, n_topics) topic of each virtual group; follows its members' interests.
        self.group_topic = self.rng.dirichlet(np.ones(p.n_topics), size=g) if g else np.empty((0, p.n_topics))
        #: (people, max_memberships) virtual group ids, valid ones first, -1 for a free slot.
        self.memberships = np.full((self.n_people, p.max_memberships), -1, dtype=np.intp)
        #: (people, max_memberships) attended steps in a row that each membership gave an identification
        #: below ``leave_belonging`` (slot for slot with ``memberships``; 0 for a free slot).
        self.low_belonging_steps = np.zeros((self.n_people, p.max_memberships), dtype=np.int16)
        self._refresh_groups()

    def _clear_step_state(self) -> None:
        n = self.n_people
        self.active_online = np.zeros(n, dtype=bool)
        self.offline_present = np.zeros(n, dtype=bool)
        self._met_memberships = self.memberships.copy()
        self._exposure_cache: tuple[np.ndarray, np.ndarray] | None = None
        self.in_need = np.zeros(n, dtype=bool)
        self.support = np.zeros(n)
        self.support_online = np.zeros(n)
        self.support_offline = np.zeros(n)
        self.meeting_pairs = np.empty((0, 2), dtype=np.intp)
        self.meeting_online = np.empty(0, dtype=bool)
        #: (contacts, 2) the local ties that were contacts this step: both people took part offline (nobody
        #: has yet), and their rows in ``local_ties``.
        self.local_contacts = np.empty((0, 2), dtype=self.local_ties.dtype)
        self._local_contact = np.empty(0, dtype=np.int64)
        self._support_sources_cache: tuple[np.ndarray, np.ndarray] | None = None
        #: (people, max_memberships) this step's identification with each attended virtual group (nan if
        #: not attended): the online term of the belonging update, which ``leave_belonging`` reads.
        self.group_identification = np.full((n, self.params.max_memberships), np.nan)

    # --- Mesa agents, created on first use ------------------------------------------------------

    def _ensure_people(self) -> None:
        if not self._people_created:
            self._people_created = True
            self._people = list(Person.create_agents(self, self.n_people, index=np.arange(self.n_people)))

    @property
    def agents(self):
        self._ensure_people()
        return super().agents

    @property
    def agents_by_type(self):
        self._ensure_people()
        return super().agents_by_type

    def person(self, index: int) -> Person:
        """The Mesa agent of row ``index``."""
        self._ensure_people()
        return self._people[index]

    # --- group state ----------------------------------------------------------------------------

    def _refresh_groups(self, topics: bool = True) -> None:
        """Recompute each virtual group's size and mean opinion, and (``topics``) move its topic to its members'."""
        # group_size: (groups,) members per virtual group; group_opinion: (groups,) their mean opinion,
        # nan for an empty group.
        self.group_size, self.group_opinion = compiled(group_opinions)(
            self.memberships, self.opinion, self.n_virtual_groups
        )
        self._members_by_block: np.ndarray | None = None
        if not topics:
            return
        self._unit_topic = np.empty_like(self.group_topic)
        compiled(move_topics)(self.memberships, self.interests, self.group_size, self.group_topic, self._unit_topic)

    def group_members_by_block(self) -> np.ndarray:
        """(groups, blocks) count of each virtual group's members living in each block.

        Counted once per refresh of the groups, so that every person recommended in a step sees the
        same groups (joins within the step do not show until the next refresh).
        """
        if self._members_by_block is None:
            self._members_by_block = compiled(members_by_block)(
                self.memberships, self.block, self.n_virtual_groups, self.n_blocks
            )
        return self._members_by_block

    def interest_similarity(self, people: np.ndarray) -> np.ndarray:
        """Cosine similarity of each person's interests to each group's topic: (people, groups) in [0, 1]."""
        return self.similarity(people, interest_weight=1.0, opinion_weight=0.0)

    def opinion_similarity(self, people: np.ndarray) -> np.ndarray:
        """``1 - |opinion - group mean| / 2`` for each person and group, in [0, 1]; 0.5 for an empty group."""
        return self.similarity(people, interest_weight=0.0, opinion_weight=1.0)

    def similarity(self, people: np.ndarray, interest_weight: float, opinion_weight: float) -> np.ndarray:
        """``interest_weight`` x :meth:`interest_similarity` + ``opinion_weight`` x :meth:`opinion_similarity`,
        (people, groups), computed in one pass without a table for each."""
        return compiled(similarity)(np.asarray(people, dtype=np.int64), self.interests, self._unit_topic,
                                    self.opinion, self.group_opinion, float(interest_weight), float(opinion_weight))

    # --- one step -------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the model by one step (recommend, meet, support, belonging, leave) and collect."""
        self._recommend()
        self._meet()
        # Joins and meetings changed the groups' sizes and means, which belonging and leaving read;
        # topics matter only to the next step's recommendations, refreshed after leaving.
        self._refresh_groups(topics=False)
        self._support()
        self._update_belonging()
        self._leave()
        self.datacollector.collect(self)

    def _recommend(self) -> None:
        p = self.params
        activity = np.array([p.online_activity]) if p.compensation == 0 else self._online_activity()
        # Memberships are compacted, so a free last slot means room for another group.
        self.active_online, self.offline_present, seekers = compiled(take_part)(
            self.online, activity, self.isolation, self.memberships, self.rng.random((2, self.n_people)))
        if self.n_virtual_groups == 0:
            return
        for start in range(0, seekers.size, RECOMMEND_CHUNK):
            self._show_and_join(seekers[start : start + RECOMMEND_CHUNK])

    def _online_activity(self) -> np.ndarray:
        """(people,) each person's chance to be active online this step, under ``compensation``.

        ``logit(a_i) = logit(online_activity) + COMPENSATION_GAIN * compensation * (0.5 - offline_belonging_i)``:
        with ``compensation > 0`` people whose offline life gives them little (unmet needs, weak local
        identification) go online more and the well-supported less (social compensation); with
        ``compensation < 0`` the reverse (rich get richer). Always in [0, 1]; 0 and 1 stay as they are.
        """
        p = self.params
        with np.errstate(divide="ignore", over="ignore"):
            base = np.log(p.online_activity) - np.log1p(-p.online_activity)
            shift = COMPENSATION_GAIN * p.compensation * (0.5 - self.offline_belonging)
            return 1.0 / (1.0 + np.exp(-(base + shift)))

    def _show_and_join(self, people: np.ndarray) -> None:
        """Show ``people`` their best-scored groups and let them join those that match their interests."""
        p, g = self.params, self.n_virtual_groups
        scores = checked_scores(self.recommender, p.recommender, self, people)
        compiled(show_and_join)(people, scores, self.memberships, min(p.n_recommendations, g), self.interests,
                                self._unit_topic, float(p.join_threshold), SCORE_RESOLUTION,
                                self.rng.random(scores.shape))

    def _meet(self) -> None:
        p, g = self.params, self.n_virtual_groups
        # Every group in one id space: virtual groups 0..g-1, then geographic group g + block.
        pairs, online = [], []
        for _ in range(p.meetings_per_step):
            first, second, group = self._random_matching()
            compiled(influence)(first, second, self.opinion, float(p.influence), float(p.confidence))
            pairs.append(np.column_stack([first, second]))
            online.append(group < g)
        #: (meetings, 2) the pairs that met this step, and whether each met online.
        self.meeting_pairs = np.concatenate(pairs)
        self.meeting_online = np.concatenate(online)
        # Exposure is measured from who was present where, when asked for: after leaving has changed the
        # memberships, so they are kept as they were at the meetings.
        self._met_memberships = self.memberships.copy()
        self._exposure_cache = None
        self._support_sources_cache = None
        # A local tie is a contact of this step only when both people take part offline in it:
        # neighbours who stay home do not see each other.
        self.local_contacts, self._local_contact = compiled(local_contacts)(self.local_ties, self.offline_present)

    @property
    def contact_pairs(self) -> np.ndarray:
        """(contacts, 2) this step's contacts: the meetings, then the local ties whose two people met."""
        return np.concatenate([self.meeting_pairs, self.local_contacts])

    @property
    def contact_distance(self) -> np.ndarray:
        """(contacts,) grid distance between the two people of each of this step's contacts."""
        return np.concatenate([compiled(pair_distances)(self.meeting_pairs, self.position),
                               self.local_tie_distance[self._local_contact]])

    @property
    def contact_online(self) -> np.ndarray:
        """(contacts,) whether each of this step's contacts was online (local ties never are)."""
        return np.concatenate([self.meeting_online, np.zeros(len(self.local_contacts), dtype=bool)])

    def _random_matching(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One meeting round: each present person attends one of their groups, attendees pair up at random.

        Each group's attendees are put in random order (:func:`~simsolidarity.model.kernels.attend`) and
        paired in that order; with ``feed_bias`` > 0 each, in that order, picks a partner among the
        unpaired ones, closer opinions more likely (:func:`~simsolidarity.model.feed.biased_matching`).
        Returns the two sides of each pair and the group it met in; the pairs are disjoint.
        """
        people, group, bounds = compiled(attend)(
            self.block, self.n_virtual_groups, self.n_blocks, self.offline_present, self.active_online,
            self.memberships, self.rng.random((2, self.n_people)),
        )
        if self.params.feed_bias > 0:
            uniforms = self.rng.random(people.size)
            return biased_matching(people, group, bounds, self.opinion, self.params.feed_bias, uniforms)
        return compiled(pair_in_order)(people, group, bounds)

    def _exposure(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread of the opinions of the co-members of the groups each person attended this step.

        Computed when first asked for in a step (opinions do not change between the meetings and
        the end of the step), so a run that does not measure exposure does not pay for it.
        """
        if self._exposure_cache is None:
            self._exposure_cache = compiled(exposure)(
                self.block, self.n_virtual_groups, self.offline_present, self.active_online, self._met_memberships,
                self.opinion, self.n_virtual_groups + self.n_blocks,
            )
        return self._exposure_cache

    @property
    def exposure_mean(self) -> np.ndarray:
        """(people,) mean opinion of the co-members met this step; nan for a person who met nobody."""
        return self._exposure()[0]

    @property
    def exposure_spread(self) -> np.ndarray:
        """(people,) standard deviation of the opinions of the co-members met this step; nan if nobody."""
        return self._exposure()[1]

    def _support(self) -> None:
        """Need events, and the support each contact delivers, scaled by the contact's depth.

        Contacts combine like independent chances: ``support = 1 - prod(1 - depth)`` over the
        person's contacts this step (meeting partners, and local ties when both take part offline),
        so one deep contact meets a need that many shallow ones only approach.
        """
        p, n = self.params, self.n_people
        # A person meets at most once a round, and has no more local contacts than local ties.
        most_online = p.meetings_per_step
        most_offline = p.meetings_per_step + self._most_local_ties
        self.in_need, self.support, self.support_online, self.support_offline = compiled(contact_support)(
            float(p.need_rate), self.rng.random(n), self.meeting_pairs, self.meeting_online, self.local_contacts,
            power_table(1.0 - p.online_depth, most_online), power_table(1.0 - p.offline_depth, most_offline),
            scratch((n, 2), np.int32),
        )

    def _support_sources(self) -> tuple[np.ndarray, np.ndarray]:
        """Through whom each person's support of this step came: the depth-weighted shares of their contacts
        in another opinion camp (opinions at least ``confidence`` apart: bridging) and in their own block
        (bonding, geographic); nan for a person without contacts.

        Computed when first asked for in a step (opinions do not change after the meetings).
        """
        if self._support_sources_cache is None:
            p = self.params
            self._support_sources_cache = compiled(contact_sources)(
                self.meeting_pairs, self.meeting_online, self.local_contacts, self.opinion, self.block,
                float(p.online_depth), float(p.offline_depth), float(p.confidence), scratch((self.n_people, 3)),
            )
        return self._support_sources_cache

    @property
    def support_bridging_share(self) -> np.ndarray:
        """(people,) depth-weighted share of this step's contacts in another opinion camp; nan without contacts."""
        return self._support_sources()[0]

    @property
    def support_local_share(self) -> np.ndarray:
        """(people,) depth-weighted share of this step's contacts living in the same block; nan without contacts."""
        return self._support_sources()[1]

    def _update_belonging(self) -> None:
        """Belonging moves toward identification with attended groups combined with support received."""
        p = self.params
        # Identification: with the block's mean opinion when taking part offline, with the closest
        # attended virtual group when active online, each scaled by how fully its depth meets the need.
        # What offline life alone gives moves offline_belonging (what compensation reads), and this
        # step's activity online_engagement (what online_belonging_correlation relates to belonging).
        self.group_identification = compiled(update_belonging)(
            self.opinion, self.block, self.n_blocks, self.offline_present, self.active_online, self.memberships,
            self.group_opinion, float(_depth_factor(p.offline_depth, p.depth_need)),
            float(_depth_factor(p.online_depth, p.depth_need)), self.support, self.support_offline,
            float(p.belonging_rate), self.belonging, self.offline_belonging, self.online_engagement,
        )

    def _leave(self) -> None:
        """Unfollow: leave each virtual group whose mean opinion is farther than ``leave_threshold``.

        With ``leave_belonging`` > 0, a membership that gave little identification for
        ``LOW_BELONGING_STEPS`` attended steps in a row is left too (see :func:`~simsolidarity.model.kernels.leave`).
        """
        if self.n_virtual_groups == 0:
            return
        p = self.params
        compiled(leave)(self.opinion, self.memberships, self.group_opinion, float(p.leave_threshold),
                        self.group_identification, float(p.leave_belonging), LOW_BELONGING_STEPS,
                        self.low_belonging_steps)
        self._refresh_groups()

    # --- convenience ----------------------------------------------------------------------------

    def outcomes(self) -> dict[str, float]:
        """Every outcome of the current state, by canonical name."""
        return measure(self)


SolidarityModel.__doc__ += f"""
    Model parameters (keyword-only, or by name in ``parameters``), in schema order:
{describe_parameters(indent="        ")}
"""
