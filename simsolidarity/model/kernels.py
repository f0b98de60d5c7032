"""Compiled kernels of a step: support, its sources, belonging, exposure and the groups' statistics.

Each kernel is a plain function of arrays, in loops that numba compiles (:func:`compiled`): one
pass over the people or the contacts where numpy would take a dozen calls, each a pass of its own.
Numba is imported the first time a kernel is compiled, i.e. when the first model is built, so that
importing the model (and the command line) does not pay for it; each kernel is cached on disk.

The kernels give the numbers that numpy gives for the same rules, bit for bit:

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
from functools import cache

import numpy as np


@cache
def compiled(function: Callable) -> Callable:
    """``function`` compiled by numba: imported here, on first use; compiled once per process, cached on disk.

    IEEE semantics for division (``error_model="numpy"``, as numpy: no Python exception for a
    division by zero); no fastmath, so that the results are numpy's.
    """
    import numba

    return numba.njit(cache=True, error_model="numpy")(function)


def power_table(base: float, most: int) -> np.ndarray:
    """(most + 1,) ``base ** k`` for ``k = 0 .. most``, by numpy's own power.

    Numpy's power of a float and an integer array is the same per element wherever the element
    stands, so a kernel that looks ``base ** k`` up here gives numpy's ``base ** counts``.
    """
    return base ** np.arange(most + 1)


def scratch(shape: tuple[int, ...], dtype: type = float) -> np.ndarray:
    """Zeros for a kernel to add into at random places, allocated by numpy.

    Numpy asks the system for huge memory pages for a large array, numba's allocator does not: at a
    million people, sums scattered over an array of numba's take half again as long, for the misses
    of the address translation.
    """
    return np.zeros(shape, dtype=dtype)


def contact_support(in_need, meeting_pairs, meeting_online, local_contacts, unmet_online, unmet_offline, counts):
    """The support each person in need receives from this step's contacts, ``1 - prod(1 - depth)``.

    Args:
        in_need: (people,) whether each person has a need this step.
        meeting_pairs: (meetings, 2) the pairs that met this step.
        meeting_online: (meetings,) whether each pair met online (else face to face).
        local_contacts: (contacts, 2) the local ties that were contacts this step (face to face).
        unmet_online: ``(1 - online_depth) ** k`` for ``k`` online contacts (:func:`power_table`).
        unmet_offline: ``(1 - offline_depth) ** k`` for ``k`` face-to-face contacts.
        counts: (people, 2) zeros, to count each person's online (column 0) and face-to-face contacts
            in (:func:`scratch`).

    Returns:
        ``(support, support_online, support_offline)``, each (people,): what all contacts, the online
        ones and the face-to-face ones deliver to a person in need; 0 for a person not in need.
    """
    n = in_need.size
    for m in range(meeting_pairs.shape[0]):
        face_to_face = 0 if meeting_online[m] else 1
        counts[meeting_pairs[m, 0], face_to_face] += 1
        counts[meeting_pairs[m, 1], face_to_face] += 1
    for c in range(local_contacts.shape[0]):
        counts[local_contacts[c, 0], 1] += 1
        counts[local_contacts[c, 1], 1] += 1
    support = np.zeros(n)
    support_online = np.zeros(n)
    support_offline = np.zeros(n)
    for i in range(n):
        if not in_need[i]:
            continue
        online, offline = counts[i, 0], counts[i, 1]
        if online >= unmet_online.size or offline >= unmet_offline.size:
            raise ValueError("a person has more contacts than the table of powers reaches")
        unmet_by_online, unmet_by_offline = unmet_online[online], unmet_offline[offline]
        support_online[i] = 1.0 - unmet_by_online
        support_offline[i] = 1.0 - unmet_by_offline
        support[i] = 1.0 - unmet_by_online * unmet_by_offline
    return support, support_online, support_offline


def contact_sources(meeting_pairs, meeting_online, local_contacts, opinion, block, online_depth, offline_depth,
                    confidence, sums):
    """Depth-weighted shares of each person's contacts in another opinion camp and in their own block.

    Args:
        meeting_pairs, meeting_online, local_contacts: this step's contacts, as for :func:`contact_support`
            (the meetings first, then the local contacts).
        opinion: (people,) opinions; a contact bridges when the two are at least ``confidence`` apart.
        block: (people,) each person's block; a contact is local when both live in the same one.
        online_depth, offline_depth: the weight of an online and of a face-to-face contact.
        sums: (people, 6) zeros, to sum into (:func:`scratch`): per person, the depths, bridging
            depths and local depths of the contacts where they are first (columns 0, 2, 4) and
            second (1, 3, 5), kept apart; side by side, so that a contact touches two rows.

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
        bridges = depth * (1.0 if abs(opinion[first] - opinion[second]) >= confidence else 0.0)
        near = depth * (1.0 if block[first] == block[second] else 0.0)
        sums[first, 0] += depth
        sums[first, 2] += bridges
        sums[first, 4] += near
        sums[second, 1] += depth
        sums[second, 3] += bridges
        sums[second, 5] += near
    bridging_share = np.empty(n)
    local_share = np.empty(n)
    for i in range(n):
        weight = sums[i, 0] + sums[i, 1]
        bridging_share[i] = (sums[i, 2] + sums[i, 3]) / weight  # 0 / 0 is nan: no contacts
        local_share[i] = (sums[i, 4] + sums[i, 5]) / weight
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
    size = np.zeros(n_groups, dtype=np.int64)
    total = np.zeros(n_groups)
    for i in range(memberships.shape[0]):
        for s in range(memberships.shape[1]):
            group = memberships[i, s]
            if group >= 0:
                size[group] += 1
                total[group] += opinion[i]
    mean = np.full(n_groups, np.nan)
    for group in range(n_groups):
        if size[group] > 0:
            mean[group] = total[group] / size[group]
    return size, mean


def move_topics(memberships, interests, size, group_topic):
    """Set each occupied virtual group's topic to its members' mean interests, in place (an empty one keeps its own).

    Args:
        memberships: (people, slots) virtual group ids, -1 for a free slot.
        interests: (people, topics) each person's interests.
        size: (groups,) members per group (:func:`group_opinions`).
        group_topic: (groups, topics) each group's topic, moved in place.
    """
    topics = interests.shape[1]
    total = np.zeros(group_topic.shape)
    for i in range(memberships.shape[0]):
        for s in range(memberships.shape[1]):
            group = memberships[i, s]
            if group >= 0:
                for k in range(topics):
                    total[group, k] += interests[i, k]
    for group in range(size.size):
        if size[group] > 0:
            for k in range(topics):
                group_topic[group, k] = total[group, k] / size[group]


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


def exposure(attended, opinion, n_groups):
    """Mean and spread of the opinions of the others present in the groups each person attended.

    Args:
        attended: (people, slots) the ids of the groups each person was present in, -1 for none.
        opinion: (people,) opinions.
        n_groups: the number of group ids (virtual and geographic).

    Returns:
        ``(mean, spread)``, each (people,): over the others present in the person's groups (one counted
        once per group shared), their mean opinion and its standard deviation; nan if there were none.
    """
    n, slots = attended.shape
    count = np.zeros(n_groups, dtype=np.int64)
    total = np.zeros(n_groups)
    squares = np.zeros(n_groups)
    for i in range(n):
        x = opinion[i]
        for s in range(slots):
            group = attended[i, s]
            if group >= 0:
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
        for s in range(slots):
            group = attended[i, s]
            if group >= 0:
                others += count[group] - 1
                others_total += total[group] - x
                others_squares += squares[group] - x * x
        if others > 0:
            mean[i] = others_total / others
            variance = others_squares / others - mean[i] * mean[i]
            spread[i] = np.sqrt(variance if not variance < 0.0 else 0.0)  # as np.maximum(variance, 0)
    return mean, spread
