"""Feed ranking inside a group: partners closer in opinion are more likely to meet (``feed_bias``).

A platform's feed shows a person the posts of like-minded co-members first, a second channel of
echo chambers besides the recommendation of groups. It is modelled after the algorithmic bias of
Sirbu, Pedreschi, Giannotti and Kertesz (2019): a person meets a co-member ``j`` with a chance
proportional to ``(|x_i - x_j| + FEED_DELTA) ** -feed_bias``, so ``feed_bias`` 0 is a uniform choice
and a larger one makes close partners ever more likely.

A meeting round stays a set of disjoint pairs. Within each group the attendees are in random
order; each attendee not yet paired, in that order, picks a partner among the attendees of the
group still unpaired, with those weights (among the first :data:`FEED_CANDIDATES` of them in the
random order, so that a round costs time linear in the attendees); an odd one out meets nobody.

The matching is compiled with numba, as the other kernels of a step are
(:func:`~simsolidarity.model.kernels.compiled`: imported on first use, cached on disk).
"""

from __future__ import annotations

import numpy as np

from simsolidarity.model.kernels import compiled

#: Added to every opinion distance so that a partner of the very same opinion has a finite weight.
#: AlgorithmicBiasModel of ndlib (Sirbu's own code) floors distances on the [0, 1] scale at 1e-5;
#: opinions here lie on [-1, 1], where distances are twice as large, hence 2e-5. Distances below
#: it hardly differ in weight, however strong the bias.
FEED_DELTA = 2e-5

#: The most unpaired attendees a person picks a partner among: the next ones in the group's random
#: order, i.e. a random sample of them. Groups up to this size are matched with the rule exactly;
#: in larger ones a round costs at most this many weights per attendee instead of the group's size.
FEED_CANDIDATES = 256


def biased_matching(
    people: np.ndarray, group: np.ndarray, bounds: np.ndarray, opinion: np.ndarray, feed_bias: float,
    uniforms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair each group's attendees, each picking a partner closer in opinion with more chance.

    Args:
        people: (attendees,) the attendees, sorted by group and in random order within a group.
        group: (attendees,) the group each attends, in the same order.
        bounds: (groups + 1,) the position where each group's attendees begin, then the number of
            attendees (as :func:`~simsolidarity.model.kernels.attend` returns them).
        opinion: (people,) every person's opinion.
        feed_bias: the exponent ``gamma`` of the weights ``(|x_i - x_j| + FEED_DELTA) ** -gamma``, > 0.
        uniforms: (attendees,) uniforms on [0, 1) drawn by the caller: the one at an attendee's
            position draws the partner they pick (an attendee who is picked uses none).

    Returns:
        The two sides of each pair and the group it met in; the pairs are disjoint.
    """
    return compiled(pair_by_feed)(
        people, group, bounds, opinion, float(feed_bias), FEED_DELTA, uniforms, FEED_CANDIDATES
    )


def pair_by_feed(people, group, bounds, opinion, gamma, delta, uniforms, candidates):
    """The matching of :func:`biased_matching`, in loops that numba compiles.

    ``bounds`` (groups + 1,) are the positions where each group's attendees begin, then the number
    of attendees; ``candidates`` is the most unpaired attendees a person picks among (the next ones
    in the order). The unpaired attendees of the group being matched are a linked list of positions
    (``after``, ``before``), so that taking one out costs nothing and the next candidates are found
    in as many steps as there are of them.
    """
    n = people.size
    first = np.empty(n // 2, dtype=people.dtype)
    second = np.empty(n // 2, dtype=people.dtype)
    met_in = np.empty(n // 2, dtype=group.dtype)
    after = np.empty(n, dtype=np.int64)
    before = np.empty(n, dtype=np.int64)
    position = np.empty(candidates, dtype=np.int64)
    cumulative = np.empty(candidates)
    pairs = 0
    for g in range(bounds.size - 1):
        start, end = bounds[g], bounds[g + 1]
        for k in range(start, end):
            after[k] = k + 1
            before[k] = k - 1
        head = start  # the first unpaired attendee in the order picks next
        while head < end:
            x = opinion[people[head]]
            count = 0
            nearest = np.inf
            k = after[head]
            while k < end and count < candidates:
                distance = abs(opinion[people[k]] - x)
                position[count] = k
                cumulative[count] = distance
                nearest = min(nearest, distance)
                count += 1
                k = after[k]
            if count == 0:  # the odd one out
                break
            # Weights relative to the nearest candidate's, which is 1: no overflow at any gamma.
            total = 0.0
            for c in range(count):
                total += ((nearest + delta) / (cumulative[c] + delta)) ** gamma
                cumulative[c] = total
            target = uniforms[head] * total
            chosen = count - 1  # if rounding leaves the target at the total, the last one
            for c in range(count):
                if cumulative[c] > target:
                    chosen = c
                    break
            partner = position[chosen]
            first[pairs] = people[head]
            second[pairs] = people[partner]
            met_in[pairs] = group[head]
            pairs += 1
            # Take the partner out of the list, then the picker (always its head).
            after[before[partner]] = after[partner]
            if after[partner] < end:
                before[after[partner]] = before[partner]
            head = after[head]
    return first[:pairs], second[:pairs], met_in[:pairs]
