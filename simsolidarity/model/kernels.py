"""Compiled kernels of a step: taking part, meeting, influence, support, belonging, leaving, recommendation's
joins, exposure and the groups' statistics.

Each kernel is a plain function of arrays, in loops that numba compiles (:func:`compiled`): one
pass over the people or the contacts where numpy would take a dozen calls, each a pass of its own,
and Python's overhead for each. Each rule has this one implementation. Numba is imported the first
time a kernel is compiled, i.e. when the first model is built, so that importing the model (and the
command line) does not pay for it; each kernel is cached on disk.

The kernels draw no random numbers: the model draws them with its own generator, in whole arrays
(numpy's generator is some three times faster per number than numba's), and hands them in, so that
the model's seed alone decides a run.

Where a kernel does what a numpy expression of the same rule would, its numbers are that expression's,
bit for bit, which tests/test_kernels.py holds:

- sums by person or by group add their terms in input order, starting from 0, as ``np.bincount``
  does with weights (a person's contacts as the first of a pair and as the second are summed
  apart, then added, as two bincounts do);
- elementwise arithmetic is the same IEEE operation in the same order; nothing is compiled with
  fastmath, so no operation is reordered or fused;
- numpy's power (SIMD code on processors with AVX-512) is not libm's ``pow``: ``0.7 ** 3`` is 0.343
  by numpy, 0.3429999999999999 by ``pow``. So powers are not taken in a kernel: they are looked up
  in a table that numpy computes (:func:`power_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache

import numpy as np

#: Functions that kernels call (:func:`helper`) not compiled yet, with whether to inline them.
_PENDING_HELPERS: list[tuple[Callable, bool]] = []


def helper(function: Callable | None = None, *, inline: bool = True) -> Callable:
    """Mark ``function`` as called from kernels: numba compiles every function a kernel calls, so the next
    :func:`compiled` kernel puts a compiled one in its place in its module.

    ``inline`` (the default) compiles it into each kernel that calls it: a call that passes arrays
    counts references to each, per call, which in a loop over the people costs more than the work.
    ``inline=False`` for a long helper called a few times a kernel.
    """
    def register(function: Callable) -> Callable:
        _PENDING_HELPERS.append((function, inline))
        return function

    return register if function is None else register(function)


def _jit(function: Callable, **options: str) -> Callable:
    import numba

    return numba.njit(cache=True, error_model="numpy", **options)(function)


def _compile_helpers() -> None:
    while _PENDING_HELPERS:
        function, inline = _PENDING_HELPERS.pop()
        function.__globals__[function.__name__] = _jit(function, inline="always" if inline else "never")


@cache
def compiled(function: Callable) -> Callable:
    """``function`` compiled by numba: imported here, on first use; compiled once per process, cached on disk.

    IEEE semantics for division (``error_model="numpy"``, as numpy: no Python exception for a
    division by zero); no fastmath, so that the results are numpy's.
    """
    _compile_helpers()
    return _jit(function)


@lru_cache(maxsize=16)
def power_table(base: float, most: int) -> np.ndarray:
    """(most + 1,) ``base ** k`` for ``k = 0 .. most``, by numpy's own power; read-only, kept for the next step.

    Numpy's power of a float and an integer array is the same per element wherever the element
    stands, so a kernel that looks ``base ** k`` up here gives numpy's ``base ** counts``.
    """
    table = base ** np.arange(most + 1)
    table.flags.writeable = False
    return table


def scratch(shape: tuple[int, ...], dtype: type = float) -> np.ndarray:
    """Zeros for a kernel to add into at random places, allocated by numpy.

    Numpy asks the system for huge memory pages for a large array, numba's allocator does not: at a
    million people, sums scattered over an array of numba's take half again as long, for the misses
    of the address translation.
    """
    return np.zeros(shape, dtype=dtype)


def contact_support(need_rate, need_uniforms, meeting_pairs, meeting_online, local_contacts, unmet_online,
                    unmet_offline, counts):
    """Need events, and the support each person in need receives from this step's contacts, ``1 - prod(1 - depth)``.

    Args:
        need_rate: each person's chance of a need this step.
        need_uniforms: (people,) uniforms on [0, 1): a person has a need when theirs is below ``need_rate``.
        meeting_pairs: (meetings, 2) the pairs that met this step.
        meeting_online: (meetings,) whether each pair met online (else face to face).
        local_contacts: (contacts, 2) the local ties that were contacts this step (face to face).
        unmet_online: ``(1 - online_depth) ** k`` for ``k`` online contacts (:func:`power_table`).
        unmet_offline: ``(1 - offline_depth) ** k`` for ``k`` face-to-face contacts.
        counts: (people, 2) zeros, to count each person's online (column 0) and face-to-face contacts
            in (:func:`scratch`).

    Returns:
        ``(in_need, support, support_online, support_offline)``, each (people,): whether each person has a
        need, and what all contacts, the online ones and the face-to-face ones deliver to a person in
        need; 0 for a person not in need.
    """
    n = counts.shape[0]
    for m in range(meeting_pairs.shape[0]):
        face_to_face = 0 if meeting_online[m] else 1
        counts[meeting_pairs[m, 0], face_to_face] += 1
        counts[meeting_pairs[m, 1], face_to_face] += 1
    for c in range(local_contacts.shape[0]):
        counts[local_contacts[c, 0], 1] += 1
        counts[local_contacts[c, 1], 1] += 1
    in_need = np.empty(n, dtype=np.bool_)
    support = np.zeros(n)
    support_online = np.zeros(n)
    support_offline = np.zeros(n)
    for i in range(n):
        in_need[i] = need_uniforms[i] < need_rate
        if not in_need[i]:
            continue
        online, offline = counts[i, 0], counts[i, 1]
        if online >= unmet_online.size or offline >= unmet_offline.size:
            raise ValueError("a person has more contacts than the table of powers reaches")
        unmet_by_online, unmet_by_offline = unmet_online[online], unmet_offline[offline]
        support_online[i] = 1.0 - unmet_by_online
        support_offline[i] = 1.0 - unmet_by_offline
        support[i] = 1.0 - unmet_by_online * unmet_by_offline
    return in_need, support, support_online, support_offline


def contact_sources(meeting_pairs, meeting_online, local_contacts, opinion, block, online_depth, offline_depth,
                    confidence, sums):
    """Depth-weighted shares of each person's contacts in another opinion camp and in their own block.

    Args:
        meeting_pairs, meeting_online, local_contacts: this step's contacts, as for :func:`contact_support`
            (the meetings first, then the local contacts).
        opinion: (people,) opinions; a contact bridges when the two are at least ``confidence`` apart.
        block: (people,) each person's block; a contact is local when both live in the same one.
        online_depth, offline_depth: the weight of an online and of a face-to-face contact.
        sums: (people, 3) zeros, to sum each person's contacts' depths, bridging depths and local depths
            into (:func:`scratch`), side by side so that a contact touches two rows.

    Returns:
        ``(bridging, local)``, each (people,): the shares; nan for a person without contacts (or
        whose contacts all weigh 0).
    """
    n = opinion.size
    meetings = meeting_pairs.shape[0]
    for c in range(meetings + local_contacts.shape[0]):
        if c < meetings:
            first, second = meeting_pairs[c, 0], meeting_pairs[c, 1]
            depth = online_depth if meeting_online[c] else offline_depth
        else:
            first, second = local_contacts[c - meetings, 0], local_contacts[c - meetings, 1]
            depth = offline_depth
        # Products with the comparisons rather than branches on them, whose outcomes are random.
        bridges = depth * (abs(opinion[first] - opinion[second]) >= confidence)
        near = depth * (block[first] == block[second])
        for person in (first, second):
            sums[person, 0] += depth
            sums[person, 1] += bridges
            sums[person, 2] += near
    bridging_share = np.empty(n)
    local_share = np.empty(n)
    for i in range(n):
        bridging_share[i] = sums[i, 1] / sums[i, 0]  # 0 / 0 is nan: no contacts
        local_share[i] = sums[i, 2] / sums[i, 0]
    return bridging_share, local_share


def update_belonging(opinion, block, n_blocks, offline_present, active_online, memberships, group_opinion,
                     offline_factor, online_factor, support, support_offline, rate,
                     belonging, offline_belonging, online_engagement):
    """Move belonging, offline belonging and online engagement one step toward their targets, in place.

    Args:
        opinion: (people,) opinions.
        block: (people,) each person's block, below ``n_blocks``; the block's mean opinion is what a
            person taking part offline identifies with.
        offline_present: (people,) whether each person took part offline this step.
        active_online: (people,) whether each person was active online this step.
        memberships: (people, slots) virtual group ids, -1 for a free slot.
        group_opinion: (groups,) mean opinion of each virtual group.
        offline_factor, online_factor: how fully a face-to-face and an online tie meet the need for
            depth (scale the identification with a block and with a group).
        support, support_offline: (people,) support received this step, in all and face to face.
        rate: ``belonging_rate``, the share of the way to its target a quantity moves in a step.
        belonging, offline_belonging, online_engagement: (people,) moved in place.

    Returns:
        (people, slots) identification with each virtual group the person attended (nan if not).
    """
    n, slots = memberships.shape
    residents = np.zeros(n_blocks, dtype=np.int64)
    opinion_sum = np.zeros(n_blocks)
    for i in range(n):
        residents[block[i]] += 1
        opinion_sum[block[i]] += opinion[i]
    block_opinion = np.empty(n_blocks)
    for b in range(n_blocks):
        block_opinion[b] = opinion_sum[b] / max(residents[b], 1)
    group_identification = np.full((n, slots), np.nan)
    for i in range(n):
        x = opinion[i]
        offline = (1.0 - abs(x - block_opinion[block[i]]) / 2.0) * offline_factor if offline_present[i] else 0.0
        online = 0.0
        if active_online[i]:
            for s in range(slots):
                group = memberships[i, s]
                if group >= 0:
                    closeness = 1.0 - abs(x - group_opinion[group]) / 2.0
                    group_identification[i, s] = closeness * online_factor
                    if closeness > online or closeness != closeness:  # a nan wins, as in np.maximum
                        online = closeness
        online *= online_factor
        identification = online if online > offline or online != online else offline
        target = 1.0 - (1.0 - identification) * (1.0 - support[i])
        belonging[i] += rate * (target - belonging[i])
        offline_target = 1.0 - (1.0 - offline) * (1.0 - support_offline[i])
        offline_belonging[i] += rate * (offline_target - offline_belonging[i])
        online_engagement[i] += rate * ((1.0 if active_online[i] else 0.0) - online_engagement[i])
    return group_identification


def group_opinions(memberships, opinion, n_groups):
    """Members and mean opinion of each virtual group.

    Args:
        memberships: (people, slots) virtual group ids, -1 for a free slot.
        opinion: (people,) opinions.
        n_groups: the number of virtual groups.

    Returns:
        ``(size, mean)``, each (groups,): members per group, and their mean opinion (nan for an empty group).
    """
    # A free slot adds to a spare last entry instead of taking a branch (see :func:`_or_spare`).
    size = np.zeros(n_groups + 1, dtype=np.int64)
    total = np.zeros(n_groups + 1)
    for i in range(memberships.shape[0]):
        for s in range(memberships.shape[1]):
            group = _or_spare(memberships[i, s], n_groups)
            size[group] += 1
            total[group] += opinion[i]
    size = size[:n_groups]
    mean = np.full(n_groups, np.nan)
    for group in range(n_groups):
        if size[group] > 0:
            mean[group] = total[group] / size[group]
    return size, mean


def move_topics(memberships, interests, size, group_topic, unit_topic):
    """Set each occupied virtual group's topic to its members' mean interests, in place (an empty one keeps its own).

    Args:
        memberships: (people, slots) virtual group ids, -1 for a free slot.
        interests: (people, topics) each person's interests.
        size: (groups,) members per group (:func:`group_opinions`).
        group_topic: (groups, topics) each group's topic, moved in place.
        unit_topic: (groups, topics) set in place to each topic scaled to length 1 (a zero one stays 0),
            which recommendation's cosine similarities read.
    """
    groups, topics = group_topic.shape
    total = np.zeros((groups + 1, topics))
    for i in range(memberships.shape[0]):
        for s in range(memberships.shape[1]):
            group = _or_spare(memberships[i, s], groups)
            for k in range(topics):
                total[group, k] += interests[i, k]
    for group in range(size.size):
        if size[group] > 0:
            for k in range(topics):
                group_topic[group, k] = total[group, k] / size[group]
        squares = 0.0
        for k in range(topics):
            squares += group_topic[group, k] * group_topic[group, k]
        norm = np.sqrt(squares) if squares > 0 else 1.0
        for k in range(topics):
            unit_topic[group, k] = group_topic[group, k] / norm


def members_by_block(memberships, block, n_groups, n_blocks):
    """(groups, blocks) count of each virtual group's members living in each block.

    Args:
        memberships: (people, slots) virtual group ids, -1 for a free slot.
        block: (people,) each person's block, below ``n_blocks``.
        n_groups: the number of virtual groups.
    """
    counts = np.zeros((n_groups, n_blocks), dtype=np.int64)
    for i in range(memberships.shape[0]):
        for s in range(memberships.shape[1]):
            if memberships[i, s] >= 0:
                counts[memberships[i, s], block[i]] += 1
    return counts


def exposure(block, n_virtual_groups, offline_present, active_online, memberships, opinion, n_groups):
    """Mean and spread of the opinions of the others present in the groups each person was present in.

    Args:
        block, n_virtual_groups, offline_present, active_online, memberships: who was present where this
            step, as for :func:`attend` (``memberships`` as they were at the meetings).
        opinion: (people,) opinions.
        n_groups: the number of group ids (virtual and geographic).

    Returns:
        ``(mean, spread)``, each (people,): over the others present in the person's groups (one counted
        once per group shared), their mean opinion and its standard deviation; nan if there were none.
    """
    n, slots = memberships.shape
    count = np.zeros(n_groups + 1, dtype=np.int64)
    total = np.zeros(n_groups + 1)
    squares = np.zeros(n_groups + 1)
    for i in range(n):
        x = opinion[i]
        for s in range(-1, slots):
            group = _or_spare(_present_in(i, s, block, n_virtual_groups, offline_present, active_online, memberships),
                              n_groups)
            count[group] += 1
            total[group] += x
            squares[group] += x * x
    mean = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    for i in range(n):
        x = opinion[i]
        others = 0.0
        others_total = 0.0
        others_squares = 0.0
        for s in range(-1, slots):
            group = _present_in(i, s, block, n_virtual_groups, offline_present, active_online, memberships)
            if group >= 0:
                others += count[group] - 1
                others_total += total[group] - x
                others_squares += squares[group] - x * x
        if others > 0:
            mean[i] = others_total / others
            variance = others_squares / others - mean[i] * mean[i]
            spread[i] = np.sqrt(variance if not variance < 0.0 else 0.0)  # as np.maximum(variance, 0)
    return mean, spread


@helper
def _or_spare(group, spare):
    """``group``, or ``spare`` (a last entry past the groups) for none (-1).

    Sums by group add a free slot into the spare entry: without a branch whose outcome (a slot free
    or not) is random, which costs more in mispredictions than the addition does. The sums of the groups
    themselves are the same, in the same order.
    """
    return group if group >= 0 else spare


@helper
def _present_in(i, slot, block, n_virtual_groups, offline_present, active_online, memberships):
    """The group person ``i`` is present in at ``slot`` this step, -1 for none: slot -1 is the geographic
    group ``n_virtual_groups + block`` (when taking part offline), the others the virtual groups of
    ``memberships`` (when active online)."""
    if slot < 0:
        return n_virtual_groups + block[i] if offline_present[i] else -1
    return memberships[i, slot] if active_online[i] else -1


def take_part(online, activity, isolation, memberships, uniforms):
    """Who is active online and who takes part offline this step, and who of the active seeks another group.

    Args:
        online: (people,) whether each person has online access.
        activity: each person's chance to be active online when they have access: (people,), or (1,)
            the same for everyone.
        isolation: (people,) each person's chance to stay away from offline life this step.
        memberships: (people, slots) virtual group ids, valid ones first, -1 for a free slot.
        uniforms: (2, people) uniforms on [0, 1): a person with access is active online when their first
            is below their ``activity``, takes part offline when their second is at least their ``isolation``.

    Returns:
        ``(active_online, offline_present, seekers)``: two (people,) masks, and the active people with a
        free membership slot, in order.
    """
    n, slots = memberships.shape
    active_online = np.empty(n, dtype=np.bool_)
    offline_present = np.empty(n, dtype=np.bool_)
    seekers = np.empty(n, dtype=np.int64)
    count = 0
    each = activity.size > 1
    for i in range(n):
        chance = activity[i] if each else activity[0]
        active_online[i] = (uniforms[0, i] < chance) & online[i]
        offline_present[i] = uniforms[1, i] >= isolation[i]
        seekers[count] = i
        count += active_online[i] & (memberships[i, slots - 1] < 0)
    return active_online, offline_present, seekers[:count]


def attend(block, n_virtual_groups, n_blocks, offline_present, active_online, memberships, uniforms):
    """One meeting round's attendance: each person present somewhere attends one of their groups, at random.

    Args:
        block, n_virtual_groups, offline_present, active_online, memberships: who is present where (each
            person's geographic group ``n_virtual_groups + block`` when taking part offline, their virtual
            groups, valid ones first, when active online); ``n_blocks`` is the number of blocks.
        uniforms: (2, people) uniforms on [0, 1): person ``i``'s first, ``u``, picks the ``floor(u * k)``-th
            of their ``k`` groups (geographic first); the second row puts the attendees of each group in
            random order (Fisher–Yates: the attendee at position ``p`` of a group's ``start .. end - 1``
            swaps with the one at ``p + floor(uniforms[1, p] * (end - p))``).

    Returns:
        ``(people, group, bounds)``: the attendees, sorted by group and in random order within a group;
        the group each attends; (groups + 1,) the position where each group's attendees begin, then
        the number of attendees (the groups are the virtual ones, then the geographic ones).
    """
    n, slots = memberships.shape
    n_groups = n_virtual_groups + n_blocks
    attended = np.empty(n, dtype=np.int64)
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    # Arithmetic rather than branches where the outcome is random: a mispredicted branch per person
    # costs more than the rest of the work on them.
    for i in range(n):
        offline = np.int64(offline_present[i])
        held = 0
        for s in range(slots):
            held += memberships[i, s] >= 0
        count = offline + held * np.int64(active_online[i])
        pick = min(int(uniforms[0, i] * count), count - 1)  # rounding must not reach past the last
        # The pick-th present group, as _present_in gives it at slot pick - offline, picked arithmetically:
        # through _present_in's branches, attendance took four times as long at a million people.
        virtual = memberships[i, max(pick - offline, 0)]
        chosen = n_virtual_groups + block[i] if pick < offline else virtual
        attended[i] = chosen if count > 0 else -1
        bounds[attended[i] + 1] += 1
    bounds[0] = 0  # the count of nobody's group (-1) fell here
    for g in range(n_groups):
        bounds[g + 1] += bounds[g]
    fill = bounds[:-1].copy()
    people = np.empty(bounds[n_groups], dtype=np.int64)
    group = np.empty(bounds[n_groups], dtype=np.int64)
    for i in range(n):
        g = attended[i]
        if g >= 0:
            people[fill[g]] = i
            group[fill[g]] = g
            fill[g] += 1
    for g in range(n_groups):
        end = bounds[g + 1]
        for k in range(bounds[g], end - 1):
            other = min(k + int(uniforms[1, k] * (end - k)), end - 1)
            people[k], people[other] = people[other], people[k]
    return people, group, bounds


def pair_in_order(people, group, bounds):
    """A uniform random matching of each group's attendees, given in random order: the 1st meets the 2nd,
    the 3rd the 4th, ...; an odd one out meets nobody.

    Args:
        people, group, bounds: as :func:`attend` returns them.

    Returns:
        The two sides of each pair and the group it met in; the pairs are disjoint.
    """
    most = people.size // 2
    first = np.empty(most, dtype=people.dtype)
    second = np.empty(most, dtype=people.dtype)
    met_in = np.empty(most, dtype=group.dtype)
    pairs = 0
    for g in range(bounds.size - 1):
        for k in range(bounds[g], bounds[g + 1] - 1, 2):
            first[pairs] = people[k]
            second[pairs] = people[k + 1]
            met_in[pairs] = g
            pairs += 1
    return first[:pairs], second[:pairs], met_in[:pairs]


def influence(first, second, opinion, weight, confidence):
    """Bounded confidence on disjoint pairs, in place: both move by ``weight`` x their difference if closer than
    ``confidence``."""
    for m in range(first.size):
        difference = opinion[second[m]] - opinion[first[m]]
        if abs(difference) < confidence:
            step = weight * difference
            opinion[first[m]] += step
            opinion[second[m]] -= step


def leave(opinion, memberships, group_opinion, leave_threshold, group_identification, leave_belonging, patience,
          low_belonging_steps):
    """Leave virtual groups, in place: those whose mean opinion is farther than ``leave_threshold``, and with
    ``leave_belonging`` > 0 those that gave an identification below it for ``patience`` attended steps in a row.

    Args:
        opinion: (people,) opinions.
        memberships: (people, slots) virtual group ids, -1 for a free slot; left slots are freed and each
            row's memberships moved to its front, in their order.
        group_opinion: (groups,) mean opinion of each virtual group.
        leave_threshold: the distance of opinion beyond which a person leaves a group.
        group_identification: (people, slots) this step's identification with each membership (nan if
            not attended): an attended step below ``leave_belonging`` adds one to the membership's count,
            one at or above it resets the count, a step away leaves it as it is.
        leave_belonging: the identification a membership must give (0: never left for giving too little).
        patience: the count at which a membership is left.
        low_belonging_steps: (people, slots) the counts, moved with their memberships; 0 for a free slot.
    """
    n, slots = memberships.shape
    for i in range(n):
        kept = 0
        for s in range(slots):
            group = memberships[i, s]
            if group < 0:
                continue
            count = low_belonging_steps[i, s]
            leaving = abs(opinion[i] - group_opinion[group]) > leave_threshold
            if leave_belonging > 0:
                identification = group_identification[i, s]
                if identification == identification:  # attended (not nan)
                    count = count + 1 if identification < leave_belonging else 0
                leaving = leaving or count >= patience
            if not leaving:
                memberships[i, kept] = group
                low_belonging_steps[i, kept] = count
                kept += 1
        for s in range(kept, slots):
            memberships[i, s] = -1
            low_belonging_steps[i, s] = 0


def local_contacts(local_ties, offline_present):
    """This step's local contacts: the local ties whose two people both take part offline.

    Returns:
        ``(contacts, which)``: (contacts, 2) those ties, in the order of ``local_ties``, and (contacts,)
        their rows in ``local_ties``.
    """
    which = np.empty(local_ties.shape[0], dtype=np.int64)
    count = 0
    for t in range(local_ties.shape[0]):
        # Without a branch: about half the ties are contacts, at random, which no branch predictor guesses.
        which[count] = t
        count += offline_present[local_ties[t, 0]] & offline_present[local_ties[t, 1]]
    contacts = np.empty((count, 2), dtype=local_ties.dtype)
    for c in range(count):
        contacts[c, 0] = local_ties[which[c], 0]
        contacts[c, 1] = local_ties[which[c], 1]
    return contacts, which[:count]


def pair_distances(pairs, position):
    """(pairs,) the Euclidean grid distance between the two people of each pair; ``position`` is (people, 2) cells."""
    distance = np.empty(pairs.shape[0])
    for m in range(pairs.shape[0]):
        dx = position[pairs[m, 0], 0] - position[pairs[m, 1], 0]
        dy = position[pairs[m, 0], 1] - position[pairs[m, 1], 1]
        distance[m] = np.sqrt(dx * dx + dy * dy)
    return distance


def show_and_join(people, scores, memberships, shown_count, interests, unit_topic, join_threshold, resolution, noise):
    """Show each person their best-scored groups and let them join those that match their interests, in place.

    Args:
        people: (seekers,) the people shown groups.
        scores: (seekers, groups) the recommender's scores, read only; a group the person is in counts as
            ``-inf`` (never shown again).
        memberships: (people, slots) virtual group ids, valid ones first, -1 for a free slot; joins go
            into the free slots, best-shown first.
        shown_count: how many groups a person is shown (those of ``-inf`` score are never joined).
        interests: (people, topics) interests; a person joins a shown group when the cosine similarity
            of their interests and its topic is at least ``join_threshold``.
        unit_topic: (groups, topics) the groups' topics scaled to length 1.
        resolution: scores closer than this count as tied: each gets ``resolution`` times its uniform in
            ``noise`` (seekers, groups) added, so that ties are shown in random order, not by group id.
    """
    slots = memberships.shape[1]
    groups = unit_topic.shape[0]
    shown = np.empty(shown_count, dtype=np.int64)
    shown_score = np.empty(shown_count)
    unit = np.empty(interests.shape[1])
    for r in range(people.size):
        i = people[r]
        free = 0
        for s in range(slots):
            free += memberships[i, s] < 0
        if free == 0:
            continue
        count = 0  # the best groups so far, best first
        for group in range(groups):
            score = scores[r, group] + resolution * noise[r, group]
            if count == shown_count and not score > shown_score[count - 1]:
                continue
            # A group the person is in scores -inf: asked only of the few groups that make the list so far.
            for s in range(slots):
                if memberships[i, s] == group:
                    score = -np.inf
            if count == shown_count and not score > shown_score[count - 1]:
                continue
            k = count if count < shown_count else shown_count - 1
            while k > 0 and score > shown_score[k - 1]:
                shown_score[k] = shown_score[k - 1]
                shown[k] = shown[k - 1]
                k -= 1
            shown_score[k] = score
            shown[k] = group
            if count < shown_count:
                count += 1
        _unit_interests(interests, i, unit)
        for c in range(count):
            if free == 0:
                break
            if shown_score[c] == -np.inf:
                continue
            if _interest_match(unit, unit_topic, shown[c]) >= join_threshold:
                memberships[i, slots - free] = shown[c]
                free -= 1


@helper
def _unit_interests(interests, i, unit):
    """Put person ``i``'s interests scaled to length 1 into ``unit`` (zeros stay zeros)."""
    squares = 0.0
    for t in range(interests.shape[1]):
        squares += interests[i, t] * interests[i, t]
    norm = np.sqrt(squares) if squares > 0 else 1.0
    for t in range(interests.shape[1]):
        unit[t] = interests[i, t] / norm


@helper
def _interest_match(unit, unit_topic, group):
    """Cosine similarity of a person's unit interests and a group's unit topic."""
    match = 0.0
    for t in range(unit.size):
        match += unit[t] * unit_topic[group, t]
    return match


@helper
def _closeness(x, group_mean):
    """``1 - |x - group_mean| / 2``: how close an opinion is to a group's mean, in [0, 1]; 0.5 for an empty group."""
    closeness = 1.0 - abs(x - group_mean) / 2.0
    return 0.5 if closeness != closeness else closeness


def similarity(people, interests, unit_topic, opinion, group_opinion, interest_weight, opinion_weight):
    """(people, groups) ``interest_weight`` x interest similarity + ``opinion_weight`` x opinion closeness.

    Interest similarity is the cosine of a person's interests and a group's topic (``unit_topic``, rows of
    length 1); opinion closeness ``1 - |opinion - group mean| / 2``, 0.5 for an empty group (mean nan).
    A weight of 0 leaves its term out.
    """
    groups = unit_topic.shape[0]
    table = np.empty((people.size, groups))
    unit = np.empty(interests.shape[1])
    for r in range(people.size):
        i = people[r]
        _unit_interests(interests, i, unit)
        for group in range(groups):
            score = 0.0
            if interest_weight != 0:
                score += interest_weight * _interest_match(unit, unit_topic, group)
            if opinion_weight != 0:
                score += opinion_weight * _closeness(opinion[i], group_opinion[group])
            table[r, group] = score
    return table
