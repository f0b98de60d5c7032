"""Compiled kernels of the outcomes: one pass over the people where numpy would take several calls.

Each kernel is a plain function of arrays, in loops that numba compiles
(:func:`~simsolidarity.model.kernels.compiled`: numba imported on first use, each kernel cached on
disk, no fastmath); the pure functions of :mod:`simsolidarity.model.outcomes` call them. At a few thousand
people an outcome costs numpy's overhead per call more than its arithmetic, so one call of a
kernel costs a fraction of the several numpy calls it replaces.

The means, variances and shares come out as numpy's, bit for bit:

- a sum of many values is taken in numpy's order of pairwise summation (:func:`pairwise_sum`), on
  the same terms, in the same order, so that a mean is ``np.mean``'s and a variance ``np.var``'s;
- a sum by group adds its terms in input order, starting from 0, as ``np.bincount`` does with weights;
- elementwise arithmetic is the same IEEE operation in the same order (nothing is compiled with
  fastmath, so nothing is reordered or fused).

What numpy hands to BLAS (the cross products of a correlation) or takes in its own SIMD code (powers,
FFTs) is left to numpy: no kernel could give those bits.
"""

from __future__ import annotations

import numpy as np

from simsolidarity.model.kernels import helper

#: How many values numpy sums with eight accumulators before it splits a run in two.
PAIRWISE_BLOCK = 128
#: Spare counters past the groups' that the empty slots of a membership table are counted into, in turn:
#: counting them apart from the groups takes no branch (one that a third of the slots would mispredict),
#: and spreading them over several keeps a run of empty slots from waiting on one counter.
SPARE_COUNTERS = 8


# --- helpers called by the kernels ---------------------------------------------------------------


@helper
def deviation_power(value, centre, power):
    """``value`` itself for ``power`` 1; else its deviation ``d = value - centre`` squared (``d * d``), cubed
    (``d * d * d``) or to the fourth (``(d * d) * (d * d)``): the products numpy takes for ``square = d * d``,
    ``square * d`` and ``square * square``."""
    if power == 1:
        return value
    deviation = value - centre
    square = deviation * deviation
    if power == 2:
        return square
    return square * deviation if power == 3 else square * square


@helper(inline=False)
def pairwise_sum(values, start, stop, centre=0.0, power=1):
    """The sum of ``values[start:stop]`` in numpy's order of pairwise summation: ``np.sum``'s result, bit for bit.

    With ``power`` above 1, the sum of the deviations from ``centre`` to that power
    (:func:`deviation_power`), as numpy sums the array of them, without making the array.

    Numpy sums a run of fewer than 8 values one after the other from 0, a run of at most 128 with
    eight accumulators (the i-th adding every eighth value from the i-th, then combined in pairs,
    then the rest added one by one), and a longer run as the sums of its two halves, the first
    half's length rounded down to a multiple of 8. The halving is walked here depth first with an
    explicit stack (numba compiles no recursion between helpers).
    """
    frame_start = np.empty(64, np.int64)
    frame_stop = np.empty(64, np.int64)
    frame_stage = np.zeros(64, np.int64)  # 0: split, 1: first half summed, 2: both halves summed
    frame_first = np.empty(64)
    frame_start[0], frame_stop[0] = start, stop
    top = 0
    result = 0.0
    while top >= 0:
        low, high = frame_start[top], frame_stop[top]
        n = high - low
        if n < 8:
            result = 0.0
            for i in range(low, high):
                result += deviation_power(values[i], centre, power)
            top -= 1
        elif n <= PAIRWISE_BLOCK:
            r0 = deviation_power(values[low], centre, power)
            r1 = deviation_power(values[low + 1], centre, power)
            r2 = deviation_power(values[low + 2], centre, power)
            r3 = deviation_power(values[low + 3], centre, power)
            r4 = deviation_power(values[low + 4], centre, power)
            r5 = deviation_power(values[low + 5], centre, power)
            r6 = deviation_power(values[low + 6], centre, power)
            r7 = deviation_power(values[low + 7], centre, power)
            end = high - n % 8
            for i in range(low + 8, end, 8):
                r0 += deviation_power(values[i], centre, power)
                r1 += deviation_power(values[i + 1], centre, power)
                r2 += deviation_power(values[i + 2], centre, power)
                r3 += deviation_power(values[i + 3], centre, power)
                r4 += deviation_power(values[i + 4], centre, power)
                r5 += deviation_power(values[i + 5], centre, power)
                r6 += deviation_power(values[i + 6], centre, power)
                r7 += deviation_power(values[i + 7], centre, power)
            result = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            for i in range(end, high):
                result += deviation_power(values[i], centre, power)
            top -= 1
        else:
            middle = low + n // 2 - (n // 2) % 8
            stage = frame_stage[top]
            frame_stage[top] = stage + 1
            if stage == 0:
                top += 1
                frame_start[top], frame_stop[top], frame_stage[top] = low, middle, 0
            elif stage == 1:
                frame_first[top] = result
                top += 1
                frame_start[top], frame_stop[top], frame_stage[top] = middle, high, 0
            else:
                result = frame_first[top] + result
                top -= 1
    return result


# --- polarization --------------------------------------------------------------------------------


def central_sums(values, highest):
    """Sums of the deviations from the mean, squared, cubed and to the fourth, as numpy takes them.

    Args:
        values: (n,) the values.
        highest: the highest power wanted, 2 to 4; the sums of higher powers come back 0.

    Returns:
        ``(squares, cubes, fourths)``: ``sum(d * d)``, ``sum(d * d * d)``, ``sum(d * d * (d * d))`` over the
        deviations ``d = values - mean`` (numpy's mean), each summed as ``np.sum`` sums the array of them
        (a mean over nobody is nan).
    """
    n = values.size
    mean = pairwise_sum(values, 0, n) / n
    sums = np.zeros(3)
    for power in range(2, highest + 1):
        sums[power - 2] = pairwise_sum(values, 0, n, mean, power)
    return sums[0], sums[1], sums[2]


def esteban_ray_sum(opinion, edges, centres, power):
    """``sum_i sum_j pi_i^power pi_j |y_i - y_j|`` over the shares ``pi`` of the bins of ``edges``, centred at ``y``.

    Each opinion is clipped to [-1, 1] and counted in the bin ``edges[i] <= x < edges[i + 1]`` (the
    last bin also takes its right edge), as ``np.histogram`` counts; nan is counted nowhere. The
    shares are the counts over the number of opinions (over 1 when there are none).

    An opinion's bin is first read off its position in bin widths, ``s = (x - edges[0]) * bins /
    width``, in a loop without branches that the compiler vectorizes. That reading errs only within
    rounding (some 1e-15 bin widths per bin) of an edge, so an opinion whose ``s`` lies within
    ``1e-9 * bins`` of a whole number is placed against the edges themselves instead.

    Args:
        opinion: (n,) the opinions.
        edges: (bins + 1,) equal-width bin edges, from -1 to 1.
        centres: (bins,) the bins' centres.
        power: the exponent ``1 + alpha`` of the own bin's share.
    """
    bins = centres.size
    low, high = edges[0], edges[bins]
    per_width = bins / (high - low)
    near = 1e-9 * bins
    n = opinion.size
    guess = np.empty(n, np.int64)
    for person in range(n):  # each opinion's bin where it is clear of the edges, else -1
        x = opinion[person]
        x = -1.0 if x < -1.0 else (1.0 if x > 1.0 else x)
        scaled = (x - low) * per_width
        inside = near < scaled < bins - near  # false for nan
        whole = int(scaled) if inside else 0
        guess[person] = whole if inside and near < scaled - whole < 1.0 - near else -1
    counts = np.zeros(bins, np.int64)
    for person in range(n):
        i = guess[person]
        if i < 0:  # near an edge, outside the edges, or nan: placed against the edges
            x = opinion[person]
            x = -1.0 if x < -1.0 else (1.0 if x > 1.0 else x)
            if not (low <= x <= high):
                continue
            i = min(int((x - low) * per_width), bins - 1)
            while i > 0 and x < edges[i]:
                i -= 1
            while i < bins - 1 and x >= edges[i + 1]:
                i += 1
        counts[i] += 1
    people = max(n, 1)
    total = 0.0
    for i in range(bins):
        alienation = 0.0
        for j in range(bins):
            alienation += abs(centres[i] - centres[j]) * (counts[j] / people)
        total += (counts[i] / people) ** power * alienation
    return total


def mean_distances(ordered):
    """(n,) each sorted opinion's mean absolute difference from all opinions: the alienation of Duclos, Esteban & Ray.

    ``a(x_i) = mu + x_i ((2i - 1)/n - 1) - (1/n) (2 sum_{j<i} x_j + x_i)`` with ``mu`` the mean (numpy's)
    and the sums of the opinions before each one running from the first, as ``np.cumsum``; at least 0.

    Args:
        ordered: (n,) the opinions, sorted ascending.
    """
    n = ordered.size
    mean = pairwise_sum(ordered, 0, n) / n
    alienation = np.empty(n)
    running = 0.0
    for i in range(n):  # first the sum of the opinions before each one, in place
        running = ordered[i] if i == 0 else running + ordered[i]
        alienation[i] = running - ordered[i]
    for i in range(n):
        value = mean + ordered[i] * ((2 * (i + 1) - 1) / n - 1.0) - (2.0 * alienation[i] + ordered[i]) / n
        alienation[i] = 0.0 if value < 0.0 else value  # a mean distance; rounding must not make it negative
    return alienation


def closed_gaps(ordered, widest):
    """(n,) positions of sorted opinions on a line where every gap wider than ``widest`` is closed to ``widest``.

    The first opinion sits at 0, each next one at the previous position plus its gap (at most ``widest``).
    """
    n = ordered.size
    position = np.empty(n)
    if n:
        position[0] = 0.0
    for i in range(1, n):
        gap = ordered[i] - ordered[i - 1]
        position[i] = position[i - 1] + (gap if gap < widest else widest)
    return position


def linear_binning(position, spacing, nodes, length):
    """(length,) linear binning of positions onto grid nodes ``0, spacing, 2 spacing, ...``: each splits a count of 1.

    A position at ``(k + s) * spacing`` gives ``1 - s`` to node ``k`` and ``s`` to node ``k + 1`` (``k``
    at most ``nodes - 2``). The shares to the left nodes and to the right nodes are summed apart,
    each in the order of the positions, then added: as two ``np.bincount`` calls and their sum. The
    entries from ``nodes`` to ``length`` are 0: the padding of an FFT. Each position is divided by
    ``spacing`` in place: in grid steps, as :func:`interpolated` takes it.
    """
    counts = np.zeros(length)
    to_right = np.zeros(nodes)
    for i in range(position.size):
        scaled = position[i] / spacing
        position[i] = scaled
        left = min(int(scaled), nodes - 2)
        right_share = scaled - left
        counts[left] += 1.0 - right_share
        to_right[left + 1] += right_share
    for k in range(nodes):
        counts[k] += to_right[k]
    return counts


def interpolated(scaled, smoothed, first, scale):
    """(n,) the values of a grid at positions in grid steps, interpolated linearly between nodes, times ``scale``.

    Node ``k`` holds ``smoothed[first + k]``; the interpolation is ``np.interp``'s: ``(f_{k+1} - f_k) (x - k) + f_k``
    for a position ``x`` between nodes ``k`` and ``k + 1``.
    """
    n = scaled.size
    value = np.empty(n)
    for i in range(n):
        k = int(scaled[i])
        left = smoothed[first + k]
        value[i] = ((smoothed[first + k + 1] - left) * (scaled[i] - k) + left) * scale
    return value


def major_clusters(opinion, gap, least):
    """The number of clusters of at least ``least`` people: the sorted opinions split wherever neighbours differ by
    more than ``gap``.

    Without a sort where it can: the opinions fall into buckets of width ``gap / 2`` counted from the
    least one. The bucket of an opinion never decreases as the opinion grows, so the sorted order
    runs through the buckets in turn; two opinions of one bucket are at most about ``gap / 2``
    apart, so no split falls inside a bucket; and the neighbours across a split are the greatest
    opinion of one occupied bucket and the least of the next. The clusters are then those of the
    sort, exactly. With a nan or an infinite opinion, a ``gap`` that is not a positive number, or
    more buckets than a few per person, the opinions are sorted instead.

    Args:
        opinion: (n,) the opinions, in any order.
        gap: a difference between neighbours above it splits two clusters.
        least: the fewest people a cluster must hold to count.
    """
    n = opinion.size
    if n == 0:
        return 0
    low, high = opinion[0], opinion[0]
    unordered = False  # a nan among the opinions
    for x in opinion:
        low = min(low, x)
        high = max(high, x)
        unordered |= x != x
    per_width = 2.0 / gap if gap > 0 else 0.0
    reach = (high - low) * per_width  # buckets from the least opinion to the greatest, less one
    if not unordered and np.isfinite(reach) and 0 < per_width and reach < 4 * n + 64:
        buckets = int(reach) + 1
        count = np.zeros(buckets, np.int64)
        least_in = np.full(buckets, np.inf)
        most_in = np.full(buckets, -np.inf)
        for x in opinion:
            b = min(int((x - low) * per_width), buckets - 1)
            count[b] += 1
            least_in[b] = min(least_in[b], x)
            most_in[b] = max(most_in[b], x)
        clusters = 0
        size = 0
        previous = -1
        for b in range(buckets):
            if count[b] == 0:
                continue
            if previous >= 0 and least_in[b] - most_in[previous] > gap:
                clusters += size >= least
                size = 0
            size += count[b]
            previous = b
        return clusters + (size >= least)
    ordered = np.sort(opinion)
    clusters = 0
    size = 0
    for i in range(n):
        if i > 0 and ordered[i] - ordered[i - 1] > gap:
            clusters += size >= least
            size = 0
        size += 1
    return clusters + (size >= least)


# --- correlations, means and shares --------------------------------------------------------------


def centred_pair(a, b, finite_b_only):
    """Two arrays as the centred rows of a (2, m) matrix, as ``np.cov`` centres them; and whether they correlate.

    Args:
        a, b: (n,) the two values of each person.
        finite_b_only: keep only the people whose ``b`` is a finite number (else everyone).

    Returns:
        ``(centred, defined)``: the people's ``a`` and ``b`` less their means (numpy's), in rows;
        ``defined`` is false for fewer than 3 people or when either row's values are all equal
        (then the rows are not centred).
    """
    n = a.size
    kept = n
    if finite_b_only:
        kept = 0
        for i in range(n):
            kept += np.isfinite(b[i])
    centred = np.empty((2, kept))
    k = 0
    for i in range(n):
        if k < kept:  # written always, kept only for the people kept (the slot after the last does not exist)
            centred[0, k], centred[1, k] = a[i], b[i]
        k += not finite_b_only or np.isfinite(b[i])
    defined = kept >= 3
    for row in range(2):  # a row of equal values has no variance; a nan is equal to nothing
        equal = True
        for k in range(kept):
            if centred[row, k] != centred[row, 0]:
                equal = False
                break
        defined &= not equal
    if defined:
        for row in range(2):
            mean = pairwise_sum(centred[row], 0, kept) / kept
            for k in range(kept):
                centred[row, k] -= mean
    return centred, defined


def masked_mean(who, values):
    """The mean of ``values`` over the people of the boolean mask ``who``, as ``values[who].mean()``; nan for nobody."""
    kept = np.empty(values.size)
    m = 0
    for i in range(values.size):
        kept[m] = values[i]  # written always, kept only for the selected: no branch to mispredict
        m += who[i]
    return pairwise_sum(kept, 0, m) / m if m else np.nan


def share_below(who, values, threshold):
    """The share of the people of the boolean mask ``who`` whose value is below ``threshold``; nan for nobody."""
    people = 0
    below = 0
    for i in range(values.size):
        people += who[i]
        below += who[i] & (values[i] < threshold)
    return below / people if people else np.nan


def weighted_share(who, weight, share):
    """``sum(weight * share) / sum(weight)`` over the people of the boolean mask ``who``, a nan ``share`` counting 0.

    As ``np.nansum(weight[who] * share[who]) / weight[who].sum()``; nan unless the weights sum above 0.
    """
    weights = np.empty(weight.size)
    products = np.empty(weight.size)
    m = 0
    for i in range(weight.size):
        weights[m] = weight[i]  # written always, kept only for the selected: no branch to mispredict
        product = weight[i] * share[i]
        products[m] = 0.0 if np.isnan(product) else product
        m += who[i]
    total = pairwise_sum(weights, 0, m)
    if not total > 0:
        return np.nan
    return pairwise_sum(products, 0, m) / total


# --- structure -----------------------------------------------------------------------------------


def member_counts(memberships, n_groups):
    """Members per group from a flat table of group ids (-1 for none), as ``np.bincount(ids[ids >= 0], minlength)``."""
    groups = n_groups
    while True:  # twice only when an id lies beyond n_groups: then again, with room for the greatest
        sizes = np.zeros(groups + SPARE_COUNTERS, np.int64)
        beyond = -1
        for entry in range(memberships.size):
            group = memberships[entry]
            if group >= groups:
                beyond = max(beyond, group)
            else:
                sizes[group if group >= 0 else groups + entry % SPARE_COUNTERS] += 1
        if beyond < 0:
            return sizes[:groups]
        groups = beyond + 1


def gini_coefficient(values):
    """The Gini coefficient ``sum_i (2i - n - 1) x_(i) / (n sum x)`` of the values sorted ascending.

    nan if there are none or their sum is 0.

    The sum of the values is numpy's; the weighted sum adds its terms in order, which for integer
    values (group sizes) is exact in any order.
    """
    ordered = np.sort(values)
    n = ordered.size
    total = pairwise_sum(ordered, 0, n)
    if n == 0 or total == 0:
        return np.nan
    weighted = 0.0
    for i in range(n):
        weighted += (2 * (i + 1) - n - 1) * ordered[i]
    return weighted / (n * total)


def mean_group_spread(memberships, opinion, n_groups):
    """The mean over virtual groups of two or more members of the standard deviation of their members' opinions.

    nan if no group has two members.

    Each group's size, sum and sum of squares are added over the membership table in row order from
    0, as ``np.bincount`` adds them; a group's variance is ``squares / size - mean^2`` (at least 0) and
    the mean over groups is numpy's.

    Args:
        memberships: (people, slots) virtual group ids, -1 for an empty slot.
        opinion: (people,) opinions.
        n_groups: the number of virtual groups (ids beyond it count as groups too).
    """
    people, slots = memberships.shape
    groups = n_groups
    while True:  # twice only when an id lies beyond n_groups: then again, with room for the greatest
        size = np.zeros(groups + SPARE_COUNTERS, np.int64)
        total = np.zeros(groups + SPARE_COUNTERS)
        squares = np.zeros(groups + SPARE_COUNTERS)
        beyond = -1
        for i in range(people):
            for s in range(slots):
                group = memberships[i, s]
                if group >= groups:
                    beyond = max(beyond, group)
                else:
                    counter = group if group >= 0 else groups + (i * slots + s) % SPARE_COUNTERS
                    size[counter] += 1
                    total[counter] += opinion[i]
                    squares[counter] += opinion[i] * opinion[i]
        if beyond < 0:
            break
        groups = beyond + 1
    spread = np.empty(groups)
    big = 0
    for group in range(groups):
        if size[group] >= 2:
            mean = total[group] / size[group]
            variance = squares[group] / size[group] - mean * mean
            spread[big] = np.sqrt(variance if not variance < 0.0 else 0.0)  # as np.maximum(variance, 0)
            big += 1
    return pairwise_sum(spread, 0, big) / big if big else np.nan
