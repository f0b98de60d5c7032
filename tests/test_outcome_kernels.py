"""The compiled outcomes against the numpy code they replaced: the same numbers on random samples, edge cases
and the states of real runs.

The ``_previous_<name>`` functions below are the numpy implementations as they were before the kernels
(:mod:`simsolidarity.model.outcome_kernels`). Each new function must give their number exactly where it
counts things or where the kernels take numpy's own order of sums (means, variances, correlations, sums
by group, shares), and to a relative 1e-12 where the order of a sum or an FFT changed (the Esteban–Ray
histogram's double sum, the Duclos–Esteban–Ray density).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import (
    BUILT_IN_OUTCOMES,
    CLUSTER_GAP,
    DENSITY_GRID_PER_BANDWIDTH,
    DENSITY_KERNEL_REACH,
    DENSITY_MAX_GRID,
    DUCLOS_ESTEBAN_RAY_ALPHA,
    ESTEBAN_RAY_ALPHA,
    ESTEBAN_RAY_BINS,
    MAJOR_CLUSTER_SHARE,
    _equal_bins,
    _kernel_spectrum,
    active_virtual_groups,
    bimodality,
    correlation,
    duclos_esteban_ray,
    echo_chamber_index,
    esteban_ray,
    exposure_diversity,
    gini,
    group_opinion_spread,
    group_sizes,
    mean_of,
    measure,
    opinion_clusters,
    opinion_variance,
    polarization_bandwidth,
    row_entries,
    share_ties_online,
    support_received,
    support_share_through,
    unmet_need_share,
)

#: Where the order of a sum or an FFT changed, the new number is within this relative difference of the old.
CLOSE = 1e-12
#: The outcomes measured to CLOSE; every other one must come out exactly as before.
APPROXIMATE = {"esteban_ray", "esteban_ray_10", "esteban_ray_40", "duclos_esteban_ray"}

# numpy warns where the previous code divides by nobody (a mean of no values, a 0 / 0 of a degenerate sample)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# --- the implementations as they were ------------------------------------------------------------


def _previous_mean_or_nan(values: np.ndarray) -> float:
    """As it was: the mean, ``nan`` over nobody."""
    return float(values.mean()) if values.size else float("nan")


def _previous_opinion_variance(opinion: np.ndarray) -> float:
    """As it was: population variance of opinions."""
    return float(np.var(opinion))


def _previous_bimodality(opinion: np.ndarray) -> float:
    """As it was: Pfister et al. (2013) bimodality coefficient."""
    n = opinion.size
    if n < 4 or np.ptp(opinion) == 0:
        return float("nan")
    # The central moments in one pass each, as scipy.stats.skew and kurtosis (bias=False) correct them,
    # without their per-call overhead, which at a few thousand people costs more than the moments.
    deviation = opinion - opinion.mean()
    square = deviation * deviation
    m2, m3, m4 = square.mean(), (square * deviation).mean(), (square * square).mean()
    g = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    k = ((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float((g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def _previous_esteban_ray(opinion: np.ndarray, bins: int = ESTEBAN_RAY_BINS,
                          alpha: float = ESTEBAN_RAY_ALPHA) -> float:
    """As it was: Esteban & Ray (1994) polarization of opinions binned on [-1, 1]."""
    edges = np.linspace(-1.0, 1.0, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    shares = np.histogram(np.clip(opinion, -1.0, 1.0), bins=edges)[0] / max(opinion.size, 1)
    distance = np.abs(centres[:, None] - centres[None, :])
    raw = float(shares ** (1 + alpha) @ distance @ shares)
    widest = 2 * 0.5 ** (2 + alpha) * (centres[-1] - centres[0])
    return raw / widest


def _previous_polarization_bandwidth(opinion: np.ndarray, alpha: float = DUCLOS_ESTEBAN_RAY_ALPHA) -> float:
    """As it was: the bandwidth ``h = 4.7 n^(-1/2) sigma alpha^0.1`` of duclos_esteban_ray's kernel."""
    n = opinion.size
    if n < 2:
        return float("nan")
    return float(4.7 * n**-0.5 * np.std(opinion, ddof=1) * alpha**0.1)


def _previous_density_at_sorted(ordered: np.ndarray, bandwidth: float) -> np.ndarray:
    """As it was: the Gaussian kernel density estimate at each sorted opinion, binned on a grid."""
    n = ordered.size
    reach = DENSITY_KERNEL_REACH * bandwidth
    # People further apart than the kernel reaches add nothing to each other's density: closing every
    # wider gap to twice the reach keeps the grid short when a few people sit far from the rest.
    position = np.empty(n)
    position[0] = 0.0
    np.cumsum(np.minimum(np.diff(ordered), 2 * reach), out=position[1:])
    span = position[-1]
    spacing = max(bandwidth / DENSITY_GRID_PER_BANDWIDTH, span / DENSITY_MAX_GRID)
    if spacing > bandwidth / 4:
        raise ValueError(f"bandwidth {bandwidth!r} is too narrow to estimate the density of {n} opinions "
                         f"on a grid of at most {DENSITY_MAX_GRID} nodes")
    nodes = int(np.ceil(span / spacing)) + 2
    scaled = position / spacing
    left = np.minimum(scaled.astype(np.int64), nodes - 2)
    right_share = scaled - left
    counts = np.bincount(left, weights=1.0 - right_share, minlength=nodes)
    counts += np.bincount(left + 1, weights=right_share, minlength=nodes)
    half = int(np.ceil(reach / spacing))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * (spacing / bandwidth)) ** 2) / (
        np.sqrt(2 * np.pi) * bandwidth * n)
    size = 1 << int(nodes + 2 * half).bit_length()  # a power of two at least as long as the full convolution
    smoothed = np.fft.irfft(np.fft.rfft(counts, size) * np.fft.rfft(kernel, size), size)[half:half + nodes]
    return np.interp(scaled, np.arange(nodes, dtype=float), smoothed)


def _previous_duclos_esteban_ray(opinion: np.ndarray, alpha: float = DUCLOS_ESTEBAN_RAY_ALPHA,
                                 bandwidth: float | None = None) -> float:
    """As it was: Duclos, Esteban & Ray (2004) polarization of opinions, on a kernel density estimate (for valid
    arguments: the refusals are tested on the function itself)."""
    n = opinion.size
    if n < 2:
        return float("nan")
    ordered = np.sort(opinion.astype(float, copy=False))
    if not (np.isfinite(ordered[0]) and np.isfinite(ordered[-1])):  # sorting puts nan at the end
        return float("nan")
    if ordered[0] == ordered[-1]:
        return 0.0  # one point mass: nobody is alienated from anybody
    rank = np.arange(1, n + 1)
    below = np.cumsum(ordered) - ordered  # sum of the opinions before each one in the order
    alienation = ordered.mean() + ordered * ((2 * rank - 1) / n - 1) - (2 * below + ordered) / n
    np.maximum(alienation, 0.0, out=alienation)  # a mean distance; rounding must not make it negative
    if alpha == 0:
        return float(alienation.mean())
    h = _previous_polarization_bandwidth(ordered, alpha) if bandwidth is None else float(bandwidth)
    return float(np.mean(_previous_density_at_sorted(ordered, h) ** alpha * alienation))


def _previous_opinion_clusters(opinion: np.ndarray, gap: float = CLUSTER_GAP,
                               major_share: float = MAJOR_CLUSTER_SHARE) -> int:
    """As it was: Number of major opinion clusters."""
    if opinion.size == 0:
        return 0
    ordered = np.sort(opinion)
    sizes = np.diff(np.flatnonzero(np.r_[True, np.diff(ordered) > gap, True]))
    return int(np.count_nonzero(sizes >= major_share * opinion.size))


def _previous_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """As it was: Pearson r of two arrays; ``nan`` for fewer than 3 people or without variance."""
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _previous_echo_chamber_index(opinion: np.ndarray, exposure_mean: np.ndarray) -> float:
    """As it was: correlation of each person's opinion with the mean opinion the person was exposed to."""
    seen = np.isfinite(exposure_mean)
    return _previous_correlation(opinion[seen], exposure_mean[seen])


def _previous_exposure_diversity(exposure_spread: np.ndarray) -> float:
    """As it was: mean standard deviation of the opinions each person was exposed to."""
    return _previous_mean_or_nan(exposure_spread[np.isfinite(exposure_spread)])


def _previous_support_received(in_need: np.ndarray, support: np.ndarray) -> float:
    """As it was: Mean support received by the people in need this step (``nan`` if nobody was in need)."""
    return _previous_mean_or_nan(support[in_need])


def _previous_unmet_need_share(in_need: np.ndarray, support: np.ndarray, depth_need: float) -> float:
    """As it was: Share of the people in need whose support fell short of ``depth_need``."""
    return _previous_mean_or_nan(support[in_need] < depth_need)


def _previous_support_share_through(in_need: np.ndarray, support: np.ndarray, share: np.ndarray) -> float:
    """As it was: the share of the support received this step that came through some of the contacts."""
    received = support[in_need]
    total = received.sum()
    if not total > 0:
        return float("nan")
    return float(np.nansum(received * share[in_need]) / total)


def _previous_mean_of(values: np.ndarray, who: np.ndarray | None = None) -> float:
    """As it was: mean of ``values`` over the people of the boolean mask ``who`` (all if ``None``)."""
    return _previous_mean_or_nan(values if who is None else values[who])


def _previous_group_sizes(memberships: np.ndarray, n_groups: int) -> np.ndarray:
    """As it was: members per virtual group, from the ``(people, slots)`` membership table (-1 = empty slot)."""
    return np.bincount(memberships[memberships >= 0], minlength=n_groups)


def _previous_gini(values: np.ndarray) -> float:
    """As it was: Gini coefficient of non-negative values (``nan`` if there are none or all are 0)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n, total = ordered.size, ordered.sum()
    if n == 0 or total == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2 * ranks - n - 1) @ ordered / (n * total))


def _previous_group_opinion_spread(memberships: np.ndarray, opinion: np.ndarray, n_groups: int) -> float:
    """As it was: mean standard deviation of members' opinions over virtual groups of two or more members."""
    person, group = row_entries(memberships)
    sizes = np.bincount(group, minlength=n_groups)
    total = np.bincount(group, weights=opinion[person], minlength=n_groups)
    squares = np.bincount(group, weights=opinion[person] ** 2, minlength=n_groups)
    big = sizes >= 2
    if not big.any():
        return float("nan")
    mean = total[big] / sizes[big]
    variance = np.maximum(squares[big] / sizes[big] - mean**2, 0.0)
    return float(np.sqrt(variance).mean())


def _previous_measures(s) -> dict[str, float]:
    """Every built-in outcome of a model's state as the previous implementations measured it (read as registered)."""
    sizes = _previous_group_sizes(s.memberships, s.n_virtual_groups)
    return {
        "opinion_variance": _previous_opinion_variance(s.opinion),
        "bimodality": _previous_bimodality(s.opinion),
        "esteban_ray": _previous_esteban_ray(s.opinion),
        "esteban_ray_10": _previous_esteban_ray(s.opinion, bins=10),
        "esteban_ray_40": _previous_esteban_ray(s.opinion, bins=40),
        "duclos_esteban_ray": _previous_duclos_esteban_ray(s.opinion),
        "opinion_clusters": _previous_opinion_clusters(s.opinion),
        "echo_chamber_index": _previous_echo_chamber_index(s.opinion, s.exposure_mean),
        "exposure_diversity": _previous_exposure_diversity(s.exposure_spread),
        "support_received": _previous_support_received(s.in_need, s.support),
        "support_online": _previous_support_received(s.in_need, s.support_online),
        "support_offline": _previous_support_received(s.in_need, s.support_offline),
        "unmet_need_share": _previous_unmet_need_share(s.in_need, s.support, s.params.depth_need),
        "support_isolated": _previous_support_received(s.in_need & s.most_isolated, s.support),
        "belonging": _previous_mean_of(s.belonging),
        "belonging_isolated": _previous_mean_of(s.belonging, s.most_isolated),
        "active_virtual_groups": int(np.count_nonzero(sizes >= 2)),
        "group_size_gini": _previous_gini(sizes),
        "group_opinion_spread": _previous_group_opinion_spread(s.memberships, s.opinion, s.n_virtual_groups),
        "share_ties_online": _previous_mean_or_nan(s.contact_online),
        "mean_tie_distance": _previous_mean_or_nan(s.contact_distance),
        "bridging_support": _previous_support_share_through(s.in_need, s.support, s.support_bridging_share),
        "local_support_share": _previous_support_share_through(s.in_need, s.support, s.support_local_share),
        "online_belonging_correlation": _previous_correlation(s.online_engagement, s.belonging),
    }


# --- comparing -----------------------------------------------------------------------------------


def assert_same(new: float, old: float, what: object = "", close: bool = False) -> None:
    """``new`` is ``old``: both nan, or equal (``close``: within a relative CLOSE); both ints or both floats."""
    assert isinstance(new, int) == isinstance(old, int), (what, new, old)
    if math.isnan(old):
        assert math.isnan(new), (what, new, old)
    elif close:
        assert new == pytest.approx(old, rel=CLOSE, abs=0), (what, new, old)
    else:
        assert new == old, (what, new, old)


def samples(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Opinions of ``n`` people in shapes the measures meet: spread, clumped, a consensus with stragglers,
    on a coarse lattice (ties and exact bin edges), at the ends of [-1, 1], and with a nan."""
    lattice = rng.integers(-20, 21, n) / 20  # ties, and every 0.05: edges of 10, 20 and 40 bins
    clumps = np.clip(np.r_[rng.normal(-0.5, 0.05, n - n // 2), rng.normal(0.6, 0.02, n // 2)], -1, 1)
    stragglers = np.r_[rng.normal(0.1, 0.01, n - n // 10), rng.uniform(-1, 1, n // 10)]
    ends = rng.choice([-1.0, 1.0, 0.0, np.nextafter(1.0, 0)], n)
    drawn = [rng.uniform(-1, 1, n), rng.permutation(clumps), rng.permutation(stragglers), lattice, ends]
    with_nan = rng.uniform(-1, 1, n)
    if n:
        with_nan[rng.integers(0, n)] = np.nan
    return [*drawn, with_nan]


SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 129, 300, 2000]


# --- sums in numpy's order -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [*range(0, 140), 255, 256, 257, 1000, 2000, 8191, 8192, 8193, 100_003])
def test_means_and_variances_are_numpys_bit_for_bit_at_every_length(n):
    """Catches: a sum one value after another, or numpy's pairwise summation taken with another block than 128
    values, other than eight accumulators, another split of a long run or another pairing of the accumulators:
    each moves the last bits of a mean or a variance at some length."""
    rng = np.random.default_rng(n)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n) + 3.0  # magnitudes apart: order shows
    everyone = np.ones(n, dtype=bool)
    assert_same(mean_of(values, everyone), _previous_mean_or_nan(values), n)
    assert_same(opinion_variance(values), _previous_opinion_variance(values), n)
    assert_same(polarization_bandwidth(values), _previous_polarization_bandwidth(values), n)
    assert_same(bimodality(values), _previous_bimodality(values), n)


# --- random samples and edge cases, measure by measure -------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_polarization_measures_agree_with_the_previous_ones(n):
    """Catches: a histogram that counts an opinion on an edge, outside [-1, 1] or nan in another bin, a bimodality
    test of equal opinions other than ``np.ptp``'s, a cluster split inside a bucket or across buckets by another
    comparison, or a density, bandwidth or alienation of Duclos-Esteban-Ray that drifted from the old ones."""
    rng = np.random.default_rng(100 + n)
    for opinion in samples(rng, n):
        assert_same(opinion_variance(opinion), _previous_opinion_variance(opinion), n)
        assert_same(bimodality(opinion), _previous_bimodality(opinion), n)
        for bins in (ESTEBAN_RAY_BINS, 10, 40, 1, 3, 7):
            for alpha in (ESTEBAN_RAY_ALPHA, 0.5):
                assert_same(esteban_ray(opinion, bins, alpha), _previous_esteban_ray(opinion, bins, alpha), (n, bins),
                            close=True)
        for gap, share in ((CLUSTER_GAP, MAJOR_CLUSTER_SHARE), (0.2, 0.0), (1e-3, 0.05), (0.0, 0.01), (-1.0, 0.0)):
            assert_same(opinion_clusters(opinion, gap, share), _previous_opinion_clusters(opinion, gap, share), n)
        if n and np.isfinite(opinion).all() and np.ptp(opinion) > 0:
            assert_same(polarization_bandwidth(opinion), _previous_polarization_bandwidth(opinion), n)
        for alpha in (DUCLOS_ESTEBAN_RAY_ALPHA, 0.0, 1.0):
            assert_same(duclos_esteban_ray(opinion, alpha), _previous_duclos_esteban_ray(opinion, alpha), (n, alpha),
                        close=True)


def test_esteban_ray_counts_opinions_on_and_beside_every_edge_as_numpys_histogram():
    """Catches: the quick reading of an opinion's bin from its position trusted within rounding of an edge, where
    it misplaces the opinion by one bin (a whole person's share, far beyond CLOSE)."""
    rng = np.random.default_rng(7)
    for bins in [*range(1, 61), 100, 1000]:
        edges = np.linspace(-1.0, 1.0, bins + 1)
        beside = [np.nextafter(edges, 2.0), np.nextafter(edges, -2.0), np.nextafter(np.nextafter(edges, 2.0), 2.0)]
        opinion = rng.permutation(np.r_[edges, *beside, rng.uniform(-1.5, 1.5, 50), np.nan, np.inf, -np.inf])
        assert_same(esteban_ray(opinion, bins), _previous_esteban_ray(opinion, bins), bins, close=True)


def test_clusters_split_exactly_where_the_sorted_neighbours_are_more_than_the_gap_apart():
    """Catches: buckets wider than the gap (a split inside one), a split tested on something other than the
    greatest opinion of one bucket against the least of the next, or buckets kept where a nan, an infinity or a
    range of many gaps per person calls for the sort."""
    gap = CLUSTER_GAP
    exactly = np.cumsum(np.full(40, gap)) - 1.0  # neighbours gap apart: no split, by a hair either way
    cases = [exactly, np.r_[exactly, np.nextafter(exactly[-1] + gap, 9.0)], exactly + np.nextafter(0.0, 1.0),
             np.r_[0.0, gap, np.nextafter(2 * gap, 9.0) + gap], np.r_[np.zeros(50), np.ones(50)],
             np.r_[np.linspace(-1, 1, 30), np.nan], np.r_[np.linspace(-1, 1, 30), np.inf], np.r_[0.0, 1e6, 2e6],
             np.r_[-1e300, 1e300, 0.0], np.full(10, 0.3)]
    rng = np.random.default_rng(11)
    cases += [rng.uniform(-1, 1, 500) * scale for scale in (1e-3, 1.0, 50.0)]
    for opinion in cases:
        for share in (0.0, 0.01, 0.2):
            assert_same(opinion_clusters(opinion, gap, share), _previous_opinion_clusters(opinion, gap, share),
                        opinion[:4])


def test_duclos_esteban_ray_agrees_where_the_grid_is_long_or_the_bandwidth_given():
    """Catches: a kernel spectrum kept for one grid (one spacing in bandwidths and one FFT length) and used for
    another, an FFT too short for the kernel's reach, or the refusal of a too narrow bandwidth lost."""
    rng = np.random.default_rng(5)
    spread = rng.uniform(-1, 1, 3000)
    for bandwidth in (None, 0.3, 0.01, 1e-4):
        assert_same(duclos_esteban_ray(spread, bandwidth=bandwidth),
                    _previous_duclos_esteban_ray(spread, bandwidth=bandwidth), bandwidth, close=True)
    # people spaced 12 bandwidths apart: the grid would need more than 2^22 nodes at h / 128, so it is coarser
    h = 1e-5
    far = np.arange(3000) * 12 * h
    span = (far.size - 1) * 12 * h
    assert span / DENSITY_MAX_GRID > h / DENSITY_GRID_PER_BANDWIDTH and 2 * DENSITY_KERNEL_REACH > 12
    assert_same(duclos_esteban_ray(far, bandwidth=h), _previous_duclos_esteban_ray(far, bandwidth=h), close=True)
    assert_same(duclos_esteban_ray(spread), _previous_duclos_esteban_ray(spread), close=True)  # the usual grid again
    many = rng.uniform(-1, 1, 200_000)
    assert_same(duclos_esteban_ray(many), _previous_duclos_esteban_ray(many), close=True)
    with pytest.raises(ValueError, match="too narrow"):
        duclos_esteban_ray(np.linspace(-1, 1, 100_000), bandwidth=1e-9)


@pytest.mark.parametrize("n", SIZES)
def test_correlations_and_means_over_people_agree_with_the_previous_ones(n):
    """Catches: a correlation whose cross products are not numpy's own (another order of the sums), a mean over
    the exposed or the needy that counts someone left out, a share of unmet needs that counts nan support as
    short, or a support share that lets a nan share through instead of counting it 0."""
    rng = np.random.default_rng(200 + n)
    for opinion in samples(rng, n):
        exposure = np.where(rng.random(n) < 0.2, np.nan, 0.5 * opinion + rng.normal(0, 0.3, n))
        in_need = rng.random(n) < 0.3
        support = np.where(rng.random(n) < 0.05, np.nan, rng.integers(0, 5, n) / 4)  # often the threshold itself
        share = np.where(rng.random(n) < 0.3, np.nan, rng.random(n))
        assert_same(echo_chamber_index(opinion, exposure), _previous_echo_chamber_index(opinion, exposure), n)
        assert_same(correlation(opinion, exposure), _previous_correlation(opinion, exposure), n)
        other = rng.random(n)
        assert_same(correlation(other, opinion), _previous_correlation(other, opinion), n)
        assert_same(exposure_diversity(np.abs(exposure)), _previous_exposure_diversity(np.abs(exposure)), n)
        assert_same(support_received(in_need, support), _previous_support_received(in_need, support), n)
        assert_same(unmet_need_share(in_need, support, 0.5), _previous_unmet_need_share(in_need, support, 0.5), n)
        assert_same(support_share_through(in_need, support, share),
                    _previous_support_share_through(in_need, support, share), n)
        assert_same(mean_of(opinion, in_need), _previous_mean_of(opinion, in_need), n)
        assert_same(mean_of(opinion), _previous_mean_of(opinion), n)
        online = rng.random(n) < 0.4
        assert_same(share_ties_online(online), _previous_mean_or_nan(online), n)


def test_undefined_correlations_means_and_shares_stay_nan():
    """Catches: a number made up for fewer than 3 people, for values without variance, for nobody exposed or in
    need, or for support that sums to 0."""
    ramp = np.arange(5.0)
    cases = [(np.ones(5), ramp), (ramp, np.ones(5)), (ramp[:2], ramp[:2]), (ramp[:0], ramp[:0]),
             (np.r_[ramp, np.nan], np.r_[ramp, 1.0]), (np.r_[ramp, np.inf], np.r_[ramp, 1.0]), (ramp, -ramp)]
    for a, b in cases:
        assert_same(correlation(a, b), _previous_correlation(a, b), (a, b))
        assert_same(echo_chamber_index(a, b), _previous_echo_chamber_index(a, b), (a, b))
    nobody = np.zeros(5, dtype=bool)
    assert math.isnan(echo_chamber_index(ramp, np.full(5, np.nan)))
    assert math.isnan(exposure_diversity(np.full(5, np.nan))) and math.isnan(exposure_diversity(ramp[:0]))
    assert math.isnan(support_received(nobody, ramp)) and math.isnan(unmet_need_share(nobody, ramp, 0.5))
    assert math.isnan(support_share_through(~nobody, np.zeros(5), ramp))
    assert math.isnan(mean_of(ramp, nobody)) and math.isnan(share_ties_online(nobody[:0]))


def test_people_chosen_by_index_or_by_a_mask_that_does_not_fit_are_chosen_as_numpy_chooses_them():
    """Catches: a kernel handed a mask of another length (reading past the values) or an index array taken for
    a mask, where numpy's indexing answers or raises."""
    values = np.arange(6.0)
    assert_same(mean_of(values, np.array([0, 5, 5])), _previous_mean_of(values, np.array([0, 5, 5])))
    assert_same(support_received(np.array([1, 2]), values), _previous_support_received(np.array([1, 2]), values))
    with pytest.raises(IndexError):
        support_received(np.ones(4, dtype=bool), values)
    with pytest.raises(IndexError):
        _previous_support_received(np.ones(4, dtype=bool), values)


def memberships_of(rng: np.random.Generator, people: int, slots: int, groups: int, empty: float) -> np.ndarray:
    """A random membership table: ``groups`` ids, a share ``empty`` of the slots empty (-1)."""
    table = rng.integers(0, max(groups, 1), (people, slots))
    table[rng.random((people, slots)) < empty] = -1
    return table if groups else np.full((people, slots), -1)


@pytest.mark.parametrize("people", [0, 1, 2, 5, 60, 2000])
def test_group_measures_agree_with_the_previous_ones(people):
    """Catches: group sizes that count empty slots or drop ids beyond ``n_groups``, a Gini coefficient off
    numpy's for group sizes, or a spread of opinions over groups that counts a group of one, sums a group's
    opinions in another order, or lets a negative variance through."""
    rng = np.random.default_rng(300 + people)
    opinion = rng.uniform(-1, 1, people)
    for groups, empty in ((40, 0.3), (3, 0.0), (500, 0.5), (0, 1.0), (5, 1.0)):
        table = memberships_of(rng, people, 3, groups, empty)
        for n_groups in (groups, max(groups - 2, 0)):  # fewer groups named than ids in the table
            sizes = group_sizes(table, n_groups)
            previous = _previous_group_sizes(table, n_groups)
            assert sizes.dtype == previous.dtype and np.array_equal(sizes, previous), (people, groups, n_groups)
            assert_same(active_virtual_groups(sizes), int(np.count_nonzero(previous >= 2)))
            assert_same(gini(sizes), _previous_gini(previous), (people, groups))
            assert_same(group_opinion_spread(table, opinion, n_groups),
                        _previous_group_opinion_spread(table, opinion, n_groups), (people, groups, n_groups))
    same = np.full(people, 0.123456789)  # one opinion: the variance by squares less the squared mean is about 0
    table = memberships_of(rng, people, 2, 4, 0.1)
    assert_same(group_opinion_spread(table, same, 4), _previous_group_opinion_spread(table, same, 4))


def test_gini_of_any_values_agrees_with_the_previous_one():
    """Catches: a Gini coefficient that forgets to sort, weighs the ranks the other way, or is not nan without values
    or with a sum of 0."""
    rng = np.random.default_rng(12)
    for values in (rng.random(7), rng.exponential(size=300), rng.integers(0, 50, 41), np.zeros(4), np.array([]),
                   np.array([3.0]), np.array([0.0, 0.0, 5.0]), np.array([1.0, np.nan, 2.0])):
        assert_same(gini(values), _previous_gini(values), values[:3],
                    close=values.dtype.kind == "f" and np.isfinite(values).all() and values.sum() > 0)


# --- the states of real runs ----------------------------------------------------------------------


@pytest.mark.parametrize("seed, changes", [(1, {}), (2, {}), (3, {"n_virtual_groups": 0}), (4, {"online_share": 0.0})])
def test_every_outcome_of_a_run_comes_out_as_before(seed, changes):
    """Every built-in outcome of the default scenario, step after step, is the number the previous code gave
    (exactly, but for the four measures whose sums changed order); also without virtual groups and offline only.

    Catches: a reporter wired to another function or argument, an outcome left out of the comparison, or a kernel
    that differs from numpy on the states a run reaches (clumps, groups emptied, nobody online)."""
    model = SolidarityModel(changes, rng=seed, outcomes=[])
    for step in range(6):
        model.step()
        previous = _previous_measures(model)
        assert set(previous) == set(BUILT_IN_OUTCOMES)
        for name, value in measure(model, list(BUILT_IN_OUTCOMES)).items():
            assert_same(value, previous[name], (step, name), close=name in APPROXIMATE)


def test_cached_bins_and_kernel_spectra_are_read_only():
    """Catches: a cached array that a caller could write into, changing every later measure that shares it."""
    edges, centres = _equal_bins(ESTEBAN_RAY_BINS)
    spectrum = _kernel_spectrum(4, 0.25, 16)
    for array in (edges, centres, spectrum):
        with pytest.raises(ValueError):
            array[0] = 0
