"""Outcomes: one pure function on arrays per measure, and the registry that wires them to a model.

The functions take plain numpy arrays, so the vectorized model, the reference implementation,
the runner and the browser app all measure with the same code. :data:`OUTCOMES` maps each
canonical outcome name to its :class:`Outcome`: a reporter that reads the arrays from any object
with the attributes of :class:`ObservedState` (``SolidarityModel`` has them all), its meaning,
and the run plots that draw it. A user adds an outcome with :func:`register_outcome`, without
editing the package; a model built with ``outcomes=[...]`` naming it records it, and the run
plots it names draw it::

    @register_outcome("share_in_groups", meaning="share of people in a virtual group",
                      family="structure", plots=("reach",), label="in a virtual group")
    def share_in_groups(state):
        return float((state.memberships >= 0).any(axis=1).mean())

Measures that are undefined in a state (a mean over nobody, a correlation without variance)
are ``nan``, never a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, overload

import numpy as np

from simsolidarity.errors import SimsolidarityError, shown
from simsolidarity.model.kernels import compiled
from simsolidarity.model.outcome_kernels import (
    central_sums,
    centred_pair,
    closed_gaps,
    esteban_ray_sum,
    gini_coefficient,
    interpolated,
    linear_binning,
    major_clusters,
    masked_mean,
    mean_distances,
    mean_group_spread,
    member_counts,
    share_below,
    weighted_share,
)
from simsolidarity.registry import check_registration

if TYPE_CHECKING:
    from simsolidarity.model.parameters import Parameters

#: Esteban–Ray polarization: number of equal-width opinion bins on [-1, 1] and the exponent alpha.
ESTEBAN_RAY_BINS = 20
ESTEBAN_RAY_ALPHA = 1.6
#: Duclos–Esteban–Ray polarization: the exponent alpha (the paper's axioms hold for 0.25 <= alpha <= 1;
#: 0.25, the end nearest to the mean absolute difference, so that a higher value needs clumps, not spread);
#: grid nodes per bandwidth and the bandwidths the Gaussian kernel reaches in its density estimate; the
#: most grid nodes it may use.
DUCLOS_ESTEBAN_RAY_ALPHA = 0.25
DENSITY_GRID_PER_BANDWIDTH = 128
DENSITY_KERNEL_REACH = 8
DENSITY_MAX_GRID = 2**22
#: Opinion clusters: a gap wider than this splits two clusters; a major cluster holds at least
#: this share of people.
CLUSTER_GAP = 0.05
MAJOR_CLUSTER_SHARE = 0.01


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _floats(values: np.ndarray) -> np.ndarray:
    """``values`` as one contiguous row of floats (the model's arrays as they are), the one layout each kernel takes."""
    if values.dtype == np.float64 and values.ndim == 1 and values.flags.c_contiguous:
        return values
    return np.ascontiguousarray(values, dtype=float).reshape(-1)


def _selected(who: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``who`` as a boolean mask over the people of ``arrays``, and the arrays as floats, for a kernel that selects.

    A boolean mask of the arrays' shape passes as it is; anything else (an index array, a mask that
    does not fit) selects through numpy's own indexing, with its errors, and the mask is then everyone.
    """
    if who.dtype == bool and all([array.shape == who.shape for array in arrays]):
        return (who, *[_floats(array) for array in arrays])
    chosen = [_floats(array[who]) for array in arrays]
    return (np.ones(chosen[0].shape, dtype=bool), *chosen)


# --- polarization -------------------------------------------------------------------------------


def opinion_variance(opinion: np.ndarray) -> float:
    """Population variance of opinions (0 at consensus, 1 for a 50/50 split at -1 and +1)."""
    if opinion.size == 0:
        return float("nan")
    return compiled(central_sums)(_floats(opinion), 2)[0] / opinion.size  # np.var's sum and division


def bimodality(opinion: np.ndarray) -> float:
    """Pfister et al. (2013) bimodality coefficient.

    ``BC = (g^2 + 1) / (k + 3 (n-1)^2 / ((n-2)(n-3)))`` with ``g`` and ``k`` the bias-corrected
    sample skewness and excess kurtosis. 5/9 for a uniform distribution; above it suggests
    bimodality. ``nan`` with fewer than four people or when all opinions are equal.
    """
    n = opinion.size
    if n < 4:
        return float("nan")
    # The central moments in one compiled call, as scipy.stats.skew and kurtosis (bias=False) correct them,
    # without their per-call overhead, which at a few thousand people costs more than the moments.
    squares, cubes, fourths = compiled(central_sums)(_floats(opinion), 4)
    if squares == 0:  # all opinions equal (or too close for their squared deviations): 0 / 0 below
        return float("nan")
    m2, m3, m4 = squares / n, cubes / n, fourths / n
    g = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    k = ((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float((g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def esteban_ray(opinion: np.ndarray, bins: int = ESTEBAN_RAY_BINS, alpha: float = ESTEBAN_RAY_ALPHA) -> float:
    """Esteban & Ray (1994) polarization of opinions binned on [-1, 1].

    ``P = K sum_i sum_j pi_i^(1+alpha) pi_j |y_i - y_j|`` over the shares ``pi`` of equal-width
    bins with centres ``y``; ``K`` normalizes a 50/50 split between the two outermost bins to 1.
    One point mass gives 0.
    """
    edges, centres = _equal_bins(bins)
    widest = 2 * 0.5 ** (2 + alpha) * (centres[-1] - centres[0])
    return compiled(esteban_ray_sum)(_floats(opinion), edges, centres, 1 + alpha) / widest


@lru_cache(maxsize=16)
def _equal_bins(bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The edges of ``bins`` equal-width bins on [-1, 1] and their centres, read-only: every call shares them."""
    edges = np.linspace(-1.0, 1.0, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    edges.flags.writeable = centres.flags.writeable = False
    return edges, centres


def polarization_bandwidth(opinion: np.ndarray, alpha: float = DUCLOS_ESTEBAN_RAY_ALPHA) -> float:
    """Bandwidth of the Gaussian kernel for :func:`duclos_esteban_ray`: ``h = 4.7 n^(-1/2) sigma alpha^0.1``.

    The rule Duclos, Esteban & Ray (2004) derive for estimating their index (not the density) with a
    Gaussian kernel: it minimizes the index's mean squared error when opinions are normal. ``sigma``
    is the sample standard deviation (divisor ``n - 1``). It shrinks as ``n^(-1/2)``, faster than a
    density bandwidth, because the index averages the density over everyone. ``nan`` for fewer than
    two people; 0 when all opinions are equal.
    """
    n = opinion.size
    if n < 2:
        return float("nan")
    deviation = math.sqrt(compiled(central_sums)(_floats(opinion), 2)[0] / (n - 1))  # np.std(ddof=1)'s sum and root
    return float(4.7 * n**-0.5 * deviation * alpha**0.1)


def _density_at_sorted(ordered: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian kernel density estimate of sorted opinions at each of them, through a binned estimate on a grid.

    The opinions are spread onto a regular grid by linear binning, the grid is convolved with the
    kernel truncated at :data:`DENSITY_KERNEL_REACH` bandwidths (by FFT), and the density at each
    opinion is interpolated linearly between grid nodes. See :func:`duclos_esteban_ray` for the error.
    """
    n = ordered.size
    reach = DENSITY_KERNEL_REACH * bandwidth
    # People further apart than the kernel reaches add nothing to each other's density: closing every
    # wider gap to twice the reach keeps the grid short when a few people sit far from the rest.
    position = compiled(closed_gaps)(ordered, 2 * reach)
    span = position[-1]
    spacing = max(bandwidth / DENSITY_GRID_PER_BANDWIDTH, span / DENSITY_MAX_GRID)
    if spacing > bandwidth / 4:
        raise ValueError(f"bandwidth {bandwidth!r} is too narrow to estimate the density of {n} opinions "
                         f"on a grid of at most {DENSITY_MAX_GRID} nodes")
    nodes = int(np.ceil(span / spacing)) + 2
    half = int(np.ceil(reach / spacing))
    # The smallest power of two whose circular convolution leaves nodes half .. half + nodes - 1 as the
    # linear one's: the kernel's tail that wraps around lands before them.
    size = 1 << int(nodes + half - 1).bit_length()
    counts = compiled(linear_binning)(position, spacing, nodes, size)  # position now in grid steps
    smoothed = np.fft.irfft(np.fft.rfft(counts) * _kernel_spectrum(half, spacing / bandwidth, size), size)
    return compiled(interpolated)(position, smoothed, half, 1 / (np.sqrt(2 * np.pi) * bandwidth * n))


@lru_cache(maxsize=8)
def _kernel_spectrum(half: int, step: float, size: int) -> np.ndarray:
    """The FFT, of length ``size``, of the Gaussian kernel's shape ``exp(-z^2 / 2)`` at ``z = k step``, ``|k| <= half``.

    ``step`` is the grid's spacing in bandwidths (1/128 but where the grid would be too long), so
    that grids of one spacing and one length share the spectrum; the density's factor
    ``1 / (sqrt(2 pi) h n)`` is applied after the convolution. Read-only: every call shares it.
    """
    spectrum = np.fft.rfft(np.exp(-0.5 * (np.arange(-half, half + 1) * step) ** 2), size)
    spectrum.flags.writeable = False
    return spectrum


def duclos_esteban_ray(opinion: np.ndarray, alpha: float = DUCLOS_ESTEBAN_RAY_ALPHA,
                       bandwidth: float | None = None) -> float:
    """Duclos, Esteban & Ray (2004) polarization of opinions, on a kernel density estimate: no bins.

    The index is ``P_alpha(f) = ∫∫ f(x)^(1+alpha) f(y) |y - x| dy dx``: every pair of people
    alienated by their distance ``|y - x|``, weighted by how crowded one's own opinion is
    (identification, ``f(x)^alpha``). The paper's estimator, with the opinions sorted ascending
    ``x_1 <= ... <= x_n``::

        P = (1/n) sum_i f(x_i)^alpha a(x_i),
        a(x_i) = mu + x_i ((2i - 1)/n - 1) - (1/n) (2 sum_{j<i} x_j + x_i)   (= (1/n) sum_j |x_i - x_j|),

    ``mu`` the mean opinion and ``f(x) = 1/(n h) sum_j phi((x - x_j)/h)`` the Gaussian kernel density
    estimate (``phi`` the standard normal density) with the bandwidth ``h`` of
    :func:`polarization_bandwidth`. ``a`` is exact; ``f`` is computed on a grid (below).

    Not normalized: opinions share one fixed scale, [-1, 1], and the paper's division by
    ``mu^(1-alpha)`` for incomes means nothing for opinions centred on 0. Rescaling every opinion by
    ``c`` scales the index by ``c^(1-alpha)``; shifting them leaves it unchanged.

    Bounds: at least 0, and 0 exactly when all opinions are equal. No fixed upper bound: the density
    estimate of a clump sharpens as the bandwidth shrinks with more people, so a 50/50 split at -1
    and +1 gives about ``(phi(0) / 2h)^alpha``, which grows as ``n^(alpha/2)``: 1.21 for 2,000
    people, 2.64 for 1,000,000 (alpha 0.25). Compare values at equal numbers of people.

    Approximation: the density at the opinions comes from a binned estimate. Opinions are spread by
    linear binning onto a grid of spacing ``d = h / 128`` (coarser only where more than 2^22 nodes
    would be needed, which the default bandwidth does not come near for opinions in [-1, 1]), the
    grid is convolved with the kernel truncated at 8 h, and the density at each opinion is
    interpolated linearly between nodes. Binning and interpolation each err by at most ``d^2 / 8``
    times the kernel's largest second derivative ``phi(0) / h^3``, so every estimated density is within
    ``eps = phi(0) d^2 / (4 h^3) + 1e-14 / h = phi(0) / (65536 h) + 1e-14 / h`` of the exact one,
    each ``f(x_i)^alpha`` within a relative ``alpha eps / (f(x_i) - eps)``, and the index within a
    relative ``alpha eps / (f_min - eps)``, ``f_min`` the least density at an opinion. At 2,000
    people the index agrees with the exact ``n x n`` sum to a relative 1e-7 (spread opinions) to 3e-6
    (the clumps of a long run); the tests hold it to 1e-5. The cost is a sort and an FFT on some
    thousands of nodes, never an ``n x n`` matrix: about 0.2 ms for 2,000 people, 30 ms for 1,000,000.

    Args:
        opinion: the opinions, in [-1, 1], in any order.
        alpha: the weight of identification, ``alpha >= 0``. The paper's axioms hold for
            ``0.25 <= alpha <= 1``; ``alpha = 0`` gives the mean absolute difference between two people.
        bandwidth: the kernel's bandwidth ``h > 0``; ``None`` for :func:`polarization_bandwidth`.

    Returns:
        The index; ``nan`` for fewer than two people or an opinion that is not a finite number.

    Raises:
        ValueError: for a negative or non-finite ``alpha``, a bandwidth that is not a positive
            number, or one so narrow that the density would need a grid of more than 2^22 nodes.
    """
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a number >= 0, not {alpha!r}")
    if bandwidth is not None and not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number or None, not {bandwidth!r}")
    n = opinion.size
    if n < 2:
        return float("nan")
    ordered = np.sort(opinion.astype(float, copy=False))
    if not (np.isfinite(ordered[0]) and np.isfinite(ordered[-1])):  # sorting puts nan at the end
        return float("nan")
    if ordered[0] == ordered[-1]:
        return 0.0  # one point mass: nobody is alienated from anybody
    alienation = compiled(mean_distances)(ordered)
    if alpha == 0:
        return float(alienation.mean())
    h = polarization_bandwidth(ordered, alpha) if bandwidth is None else float(bandwidth)
    density = _density_at_sorted(ordered, h)
    return float(np.dot(np.power(density, alpha, out=density), alienation) / n)  # (1/n) sum_i f(x_i)^alpha a(x_i)


def opinion_clusters(opinion: np.ndarray, gap: float = CLUSTER_GAP, major_share: float = MAJOR_CLUSTER_SHARE) -> int:
    """Number of major opinion clusters.

    Sorted opinions are split wherever two neighbours differ by more than ``gap``; a cluster is
    major when it holds at least ``major_share`` of the people.
    """
    if opinion.size == 0:
        return 0
    return int(compiled(major_clusters)(_floats(opinion), gap, major_share * opinion.size))


# --- echo chambers ------------------------------------------------------------------------------


def echo_chamber_index(opinion: np.ndarray, exposure_mean: np.ndarray) -> float:
    """Correlation of each person's opinion with the mean opinion of what the person was exposed to.

    After Cinelli et al. (2021): people with no exposure (``nan``) are left out. 0 when exposure
    is unrelated to one's own opinion, near 1 in closed echo chambers.
    """
    return _correlation(*compiled(centred_pair)(*_paired(opinion, exposure_mean), True))


def exposure_diversity(exposure_spread: np.ndarray) -> float:
    """Mean standard deviation of the opinions each person was exposed to (people with exposure)."""
    return compiled(masked_mean)(*_selected(np.isfinite(exposure_spread), exposure_spread))


# --- support and belonging ----------------------------------------------------------------------


def support_received(in_need: np.ndarray, support: np.ndarray) -> float:
    """Mean support received by the people in need this step (``nan`` if nobody was in need)."""
    return _mean_where(support, in_need)


def _mean_where(values: np.ndarray, who: np.ndarray) -> float:
    """Mean of ``values`` over the people selected by ``who``, as ``values[who].mean()``; ``nan`` for nobody."""
    return compiled(masked_mean)(*_selected(who, values))


def unmet_need_share(in_need: np.ndarray, support: np.ndarray, depth_need: float) -> float:
    """Share of the people in need whose support fell short of ``depth_need``."""
    return compiled(share_below)(*_selected(in_need, support), depth_need)


def support_share_through(in_need: np.ndarray, support: np.ndarray, share: np.ndarray) -> float:
    """The share of the support received this step that came through some of the contacts.

    ``share`` is each person's depth-weighted share of their contacts of that kind (nan without
    contacts); each person in need counts with the support they received: ``sum(support * share) /
    sum(support)``. ``nan`` if nobody in need received any support.
    """
    return compiled(weighted_share)(*_selected(in_need, support, share))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two arrays over the people; ``nan`` for fewer than 3 people or without variance."""
    return _correlation(*compiled(centred_pair)(*_paired(a, b), False))


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two values of each person, as floats; a ``ValueError`` unless there is one of each per person."""
    if a.shape != b.shape:
        raise ValueError(f"the two arrays must hold a value for each person: shapes {a.shape} and {b.shape}")
    return _floats(a), _floats(b)


def _correlation(centred: np.ndarray, defined: bool) -> float:
    """Pearson r of the two centred rows (:func:`~simsolidarity.model.outcome_kernels.centred_pair`), as
    ``np.corrcoef`` takes it from them, bit for bit; ``nan`` unless ``defined``."""
    if not defined:
        return float("nan")
    products = np.dot(centred, centred.T)  # numpy's own call on corrcoef's rows, so that BLAS sums them alike
    scale = 1.0 / (centred.shape[1] - 1)
    r = products[0, 1] * scale / math.sqrt(products[0, 0] * scale) / math.sqrt(products[1, 1] * scale)
    return float(min(max(r, -1.0), 1.0))


def mean_of(values: np.ndarray, who: np.ndarray | None = None) -> float:
    """Mean of ``values`` over the people selected by the boolean mask ``who`` (all if ``None``)."""
    return _mean_or_nan(values) if who is None else _mean_where(values, who)


def most_isolated_quartile(isolation: np.ndarray) -> np.ndarray:
    """Boolean mask of the quarter of people with the highest isolation (ties broken by index)."""
    n = isolation.size
    mask = np.zeros(n, dtype=bool)
    count = max(n // 4, 1) if n else 0
    mask[np.argsort(-isolation, kind="stable")[:count]] = True
    return mask


# --- structure ----------------------------------------------------------------------------------


def row_entries(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index and value of each valid entry (>= 0) of a ``(people, slots)`` table of ids, in row order."""
    flat = table.ravel()
    index = np.flatnonzero(flat >= 0)
    return index // table.shape[1], flat[index]


def group_sizes(memberships: np.ndarray, n_groups: int) -> np.ndarray:
    """Members per virtual group, from the ``(people, slots)`` membership table (-1 = empty slot)."""
    if n_groups < 0:
        raise ValueError(f"the number of groups must not be negative, not {n_groups!r}")
    return compiled(member_counts)(np.ascontiguousarray(memberships).reshape(-1), n_groups)


def active_virtual_groups(sizes: np.ndarray) -> int:
    """Virtual groups with at least two members (a group of one is no community)."""
    return int(np.count_nonzero(sizes >= 2))


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal; ``nan`` if there are none or all are 0)."""
    return compiled(gini_coefficient)(_floats(values))


def group_opinion_spread(memberships: np.ndarray, opinion: np.ndarray, n_groups: int) -> float:
    """Mean standard deviation of members' opinions over virtual groups with two or more members."""
    if n_groups < 0:
        raise ValueError(f"the number of groups must not be negative, not {n_groups!r}")
    if len(memberships) > opinion.size:
        raise IndexError(f"the membership table has {len(memberships)} rows but there are {opinion.size} opinions")
    return compiled(mean_group_spread)(np.ascontiguousarray(memberships), _floats(opinion), n_groups)


def share_ties_online(contact_online: np.ndarray) -> float:
    """Share of this step's contacts (meetings and local ties) that were online."""
    if contact_online.dtype == bool and contact_online.size:
        return np.count_nonzero(contact_online) / contact_online.size  # the mean of 0s and 1s, without a cast
    return _mean_or_nan(contact_online)


def mean_tie_distance(contact_distance: np.ndarray) -> float:
    """Mean grid distance between the two people of each of this step's contacts (reach)."""
    return _mean_or_nan(contact_distance)


# --- wiring -------------------------------------------------------------------------------------


class ObservedState(Protocol):
    """What a model must expose to be measured; names are those of ``SolidarityModel``."""

    params: Parameters
    n_virtual_groups: int
    opinion: np.ndarray  # (people,) in [-1, 1]
    belonging: np.ndarray  # (people,) in [0, 1]
    most_isolated: np.ndarray  # (people,) bool
    memberships: np.ndarray  # (people, max_memberships) virtual group ids, -1 = empty
    exposure_mean: np.ndarray  # (people,) mean opinion met this step, nan if none
    exposure_spread: np.ndarray  # (people,) std of opinions met this step, nan if none
    in_need: np.ndarray  # (people,) bool, need event this step
    support: np.ndarray  # (people,) support received this step, in [0, 1]
    support_online: np.ndarray  # (people,) part of it through online contacts
    support_offline: np.ndarray  # (people,) part of it through face-to-face contacts
    contact_online: np.ndarray  # (contacts,) bool, whether each of this step's contacts was online
    contact_distance: np.ndarray  # (contacts,) Euclidean grid distance of each of this step's contacts
    support_bridging_share: np.ndarray  # (people,) depth-weighted share of contacts in another camp, nan if none
    support_local_share: np.ndarray  # (people,) depth-weighted share of contacts in the own block, nan if none
    online_engagement: np.ndarray  # (people,) share of recent steps active online


#: How an outcome is read off a state: ``report(state) -> float``.
Report = Callable[[ObservedState], float]
#: The least and the greatest value a measure can take; ``None`` where it has no bound on that side.
Bounds = tuple[float | None, float | None]
#: The bounds of a measure that can take any value.
UNBOUNDED: Bounds = (None, None)


class OutcomeError(SimsolidarityError):
    """An outcome cannot be registered, or an outcome name is not registered."""


@dataclass(frozen=True)
class Outcome:
    """A registered outcome: what it measures, how it is read off a state, and where it is drawn.

    Attributes:
        name: canonical name: a column of ``timeseries.csv`` and an entry of ``outputs.outcomes``.
        meaning: one line saying what it measures.
        report: reads the outcome off a state with the attributes of :class:`ObservedState`.
        family: the part of the model's questions it belongs to (``polarization``, ``support``, ...).
        plots: the run plots that draw it as a line against the step (see :func:`run_plot_names`).
        label: its line's legend in those plots (``None``: its name).
        line_order: where its line comes among the lines of a plot: lower first, equal ones in
            the order of :data:`OUTCOMES`.
        bounds: the least and the greatest value the measure can take (``None``: no bound on that
            side), e.g. ``(0.0, 1.0)`` for a share; an interval of its mean stays inside them.
    """

    name: str
    meaning: str
    report: Report
    family: str
    plots: tuple[str, ...] = ()
    label: str | None = None
    line_order: int = 0
    bounds: Bounds = UNBOUNDED

    @property
    def bounded(self) -> bool:
        """Whether the measure has a bound on either side."""
        return self.bounds != UNBOUNDED

    def __post_init__(self) -> None:
        if self.label is None:
            object.__setattr__(self, "label", self.name)  # frozen: the default is filled in once


#: Every registered outcome, by canonical name: the built-in ones, then those added with
#: :func:`register_outcome`, in the order they were first registered (the order of the columns of
#: a time series).
OUTCOMES: dict[str, Outcome] = {}

#: The run plot that draws no outcome: the opinion histograms at the start and at the end of a run.
OPINIONS_PLOT = "opinions"
#: The column of a time series that holds the step: no outcome can take its name.
STEP_COLUMN = "step"


def _check_name(name: Any, what: str) -> None:
    # an outcome or plot name names a column, a YAML entry and a file: letters, digits and _
    if not isinstance(name, str) or not name.isidentifier():
        raise OutcomeError(f"{what} must be a name of letters, digits and _ (not starting with a digit), "
                           f"not {shown(name)}")


def _check_text(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise OutcomeError(f"{what} must be a non-empty text, not {shown(value)}")


def _checked_plots(name: str, plots: Iterable[str]) -> tuple[str, ...]:
    if isinstance(plots, str):
        raise OutcomeError(f"plots of outcome {name!r} must be a sequence of plot names, not the text {plots!r} "
                           f"(write plots=({plots!r},))")
    try:
        chosen = tuple(plots)
    except TypeError:
        raise OutcomeError(f"plots of outcome {name!r} must be a sequence of plot names, not {shown(plots)}") from None
    for plot in chosen:
        _check_name(plot, f"a plot name of outcome {name!r}")
        if plot == OPINIONS_PLOT:
            raise OutcomeError(f"outcome {name!r} cannot be drawn in {OPINIONS_PLOT!r}: it shows opinion histograms")
    return tuple(dict.fromkeys(chosen))


def _checked_bounds(name: str, bounds: Any) -> Bounds:
    """``bounds`` as ``(low, high)``: each a finite number or ``None``, ``low < high`` when both are given."""
    expected = "(low, high), each a number or None"
    if isinstance(bounds, str) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise OutcomeError(f"bounds of outcome {name!r} must be {expected}, not {shown(bounds)}")
    for bound in bounds:
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)
                                  or not np.isfinite(bound)):
            raise OutcomeError(f"bounds of outcome {name!r} must be {expected}, not {shown(bounds)}")
    low, high = (None if bound is None else float(bound) for bound in bounds)
    if low is not None and high is not None and not low < high:
        raise OutcomeError(f"bounds of outcome {name!r}: the low bound must be below the high one, not {shown(bounds)}")
    return low, high


def _register(name: str, report: Report, meaning: str, family: str, plots: Iterable[str], label: str | None,
              line_order: int, bounds: Bounds, replace: bool) -> None:
    if not callable(report):
        raise OutcomeError(f"outcome {name!r} must be read by a function report(state) -> float, not {shown(report)}")
    _check_text(meaning, f"the meaning of outcome {name!r}")
    _check_text(family, f"the family of outcome {name!r}")
    if label is not None:
        _check_text(label, f"the label of outcome {name!r}")
    if isinstance(line_order, bool) or not isinstance(line_order, int):
        raise OutcomeError(f"the line_order of outcome {name!r} must be an integer, not {shown(line_order)}")
    chosen_plots = _checked_plots(name, plots)
    chosen_bounds = _checked_bounds(name, bounds)
    taken = OUTCOMES.get(name)
    # the function decides: a cell run again with a new meaning or label still replaces its outcome
    check_registration(name, report, None if taken is None else taken.report, built_in=name in BUILT_IN_OUTCOMES,
                       kind="outcome", replace=replace, error=OutcomeError)
    OUTCOMES[name] = Outcome(name, meaning, report, family, chosen_plots, label, line_order, chosen_bounds)


@overload
def register_outcome(
    name: str, report: None = None, *, meaning: str, family: str, plots: Iterable[str] = (),
    label: str | None = None, line_order: int = 0, bounds: Bounds = UNBOUNDED, replace: bool = False,
) -> Callable[[Report], Report]: ...


@overload
def register_outcome(
    name: str, report: Report, *, meaning: str, family: str, plots: Iterable[str] = (),
    label: str | None = None, line_order: int = 0, bounds: Bounds = UNBOUNDED, replace: bool = False,
) -> Report: ...


def register_outcome(
    name: str,
    report: Report | None = None,
    *,
    meaning: str,
    family: str,
    plots: Iterable[str] = (),
    label: str | None = None,
    line_order: int = 0,
    bounds: Bounds = UNBOUNDED,
    replace: bool = False,
) -> Report | Callable[[Report], Report]:
    """Register ``report`` as the outcome ``name``; without ``report``, a decorator that registers the function.

    Args:
        name: the outcome's canonical name: letters, digits and ``_``, not ``step``.
        report: ``report(state) -> float``, reading the state of a model (the attributes of
            :class:`ObservedState`, or any other of the model's).
        meaning: one line saying what the outcome measures (shown by ``simsolidarity list``).
        family: the part of the model's questions it belongs to, e.g. ``"support"``.
        plots: the run plots that draw it as a line against the step: built-in ones
            (``polarization``, ``echo_chamber``, ``support``, ``belonging``, ``structure``) or a new
            name, which makes a plot of its own.
        label: its line's legend in those plots (default: its name).
        line_order: where its line comes among the lines of a plot: lower first, equal ones in
            the order of :data:`OUTCOMES` (a new outcome's line comes last).
        bounds: the least and the greatest value the measure can take, ``None`` for no bound on
            that side: ``(0, 1)`` for a share, ``(-1, 1)`` for a correlation, ``(0, None)`` for a
            count. The interval of a bounded outcome's mean over runs is a percentile bootstrap
            interval, which stays inside them; an unbounded one gets a Student-t interval.
        replace: allow taking a name already registered to another function, a built-in
            outcome's included; a replaced outcome keeps its place in :data:`OUTCOMES`.

    Registering the same definition again under its name (same module and qualified name, as when
    a notebook cell or a plugin module runs again) replaces it without ``replace``.

    Returns:
        ``report`` (or, without it, a decorator that registers and returns the function).

    Raises:
        OutcomeError: for a bad name (or ``step``), something that is not callable, an empty
            meaning, family or label, a bad plot name (``opinions`` included: it draws no outcome),
            bounds other than two numbers or ``None`` with the low one below the high one, and,
            without ``replace``, a name taken by a built-in outcome or by another function.
    """
    _check_name(name, "an outcome's name")
    if name == STEP_COLUMN:
        raise OutcomeError(f"an outcome cannot be named {STEP_COLUMN!r}: the time series' step column has that name")

    def decorate(function: Report) -> Report:
        _register(name, function, meaning, family, plots, label, line_order, bounds, replace)
        return function

    return decorate if report is None else decorate(report)


def _in_need_isolated(s: ObservedState) -> np.ndarray:
    return s.in_need & s.most_isolated


#: The built-in outcomes, by name, filled in below; replacing one takes ``replace=True``.
BUILT_IN_OUTCOMES: Mapping[str, Outcome] = MappingProxyType({})

# The built-in outcomes: the order of the time series' columns. In a plot, the headline measure
# (Esteban-Ray polarization) comes first and the share of needs unmet, not a level of support, last.
register_outcome("opinion_variance", lambda s: opinion_variance(s.opinion), family="polarization",
                 meaning="variance of opinions (0: all agree; 1: half at -1, half at +1)", plots=("polarization",),
                 label="opinion variance", bounds=(0.0, 1.0))  # opinions lie in [-1, 1]
register_outcome("bimodality", lambda s: bimodality(s.opinion), family="polarization",
                 meaning="Pfister's bimodality coefficient of opinions", plots=("polarization",),
                 label="bimodality coefficient", bounds=(0.0, None))  # the small-sample corrections can pass 1
register_outcome("esteban_ray", lambda s: esteban_ray(s.opinion), family="polarization",
                 meaning="Esteban-Ray polarization (20 bins, alpha 1.6): high when people form a few large camps "
                 "far apart", plots=("polarization",), label="Esteban-Ray polarization", line_order=-1,
                 bounds=(0.0, 1.0))  # 1: a 50/50 split at the ends
for _bins in (10, 40):  # the bin sensitivity of esteban_ray, shown wherever it carries a verdict
    register_outcome(f"esteban_ray_{_bins}", lambda s, bins=_bins: esteban_ray(s.opinion, bins=bins),
                     family="polarization", meaning=f"Esteban-Ray polarization at {_bins} bins (alpha 1.6): "
                     "how much esteban_ray hinges on its 20 bins", label=f"Esteban-Ray polarization, {_bins} bins",
                     bounds=(0.0, 1.0))
del _bins
register_outcome("duclos_esteban_ray", lambda s: duclos_esteban_ray(s.opinion), family="polarization",
                 meaning="Duclos-Esteban-Ray polarization (kernel density, alpha 0.25)", plots=("polarization",),
                 label="Duclos-Esteban-Ray polarization", line_order=-1,
                 bounds=(0.0, None))  # no fixed top: a clump's estimated density sharpens with more people
register_outcome("opinion_clusters", lambda s: opinion_clusters(s.opinion), family="polarization",
                 meaning="major opinion clusters (>= 1% of people)", bounds=(0.0, None))
register_outcome("echo_chamber_index", lambda s: echo_chamber_index(s.opinion, s.exposure_mean),
                 family="echo chamber",
                 meaning="correlation of own opinion with mean opinion met (1: people meet only their own side)",
                 plots=("echo_chamber",), label="echo-chamber index", bounds=(-1.0, 1.0))  # a correlation
register_outcome("exposure_diversity", lambda s: exposure_diversity(s.exposure_spread), family="echo chamber",
                 meaning="mean spread (std) of the opinions a person met (low: one view heard)",
                 plots=("echo_chamber",), label="exposure diversity (std)",
                 bounds=(0.0, 1.0))  # a population std of values in [-1, 1]
register_outcome("support_received", lambda s: support_received(s.in_need, s.support), family="support",
                 meaning="mean support received by people in need", plots=("support",), label="support received",
                 bounds=(0.0, 1.0))
register_outcome("support_online", lambda s: support_received(s.in_need, s.support_online), family="support",
                 meaning="mean share of a need met by online contacts, 1 - prod(1 - depth), people in need",
                 plots=("support",), label="through online ties", bounds=(0.0, 1.0))
register_outcome("support_offline", lambda s: support_received(s.in_need, s.support_offline), family="support",
                 meaning="mean share of a need met by face-to-face contacts, people in need", plots=("support",),
                 label="through face-to-face ties", bounds=(0.0, 1.0))
register_outcome("unmet_need_share", lambda s: unmet_need_share(s.in_need, s.support, s.params.depth_need),
                 family="support", meaning="share of people in need whose support fell short",
                 plots=("support",), label="share of needs unmet", line_order=1, bounds=(0.0, 1.0))
register_outcome("support_isolated", lambda s: support_received(_in_need_isolated(s), s.support),
                 family="support", meaning="mean support received, most isolated quartile in need",
                 plots=("support",), label="received, most isolated quartile", bounds=(0.0, 1.0))
register_outcome("belonging", lambda s: mean_of(s.belonging), family="belonging",
                 meaning="mean belonging (0 to 1: identification with groups and support received)",
                 plots=("belonging",), label="everyone", bounds=(0.0, 1.0))
register_outcome("belonging_isolated", lambda s: mean_of(s.belonging, s.most_isolated), family="belonging",
                 meaning="mean belonging of the most isolated quartile", plots=("belonging",),
                 label="most isolated quartile", bounds=(0.0, 1.0))
register_outcome("active_virtual_groups",
                 lambda s: active_virtual_groups(group_sizes(s.memberships, s.n_virtual_groups)),
                 family="structure", meaning="virtual groups with two or more members", bounds=(0.0, None))
register_outcome("group_size_gini", lambda s: gini(group_sizes(s.memberships, s.n_virtual_groups)),
                 family="structure", meaning="Gini coefficient of virtual group sizes", plots=("structure",),
                 label="Gini of group sizes", bounds=(0.0, 1.0))
register_outcome("group_opinion_spread",
                 lambda s: group_opinion_spread(s.memberships, s.opinion, s.n_virtual_groups),
                 family="structure", meaning="mean spread of opinions inside a virtual group",
                 bounds=(0.0, 1.0))  # a population std of opinions in [-1, 1]
register_outcome("share_ties_online", lambda s: share_ties_online(s.contact_online), family="structure",
                 meaning="share of this step's contacts that were online", plots=("structure",),
                 label="share of contacts online", bounds=(0.0, 1.0))
register_outcome("mean_tie_distance", lambda s: mean_tie_distance(s.contact_distance), family="structure",
                 meaning="mean grid distance of this step's contacts (reach)", bounds=(0.0, None))
register_outcome("bridging_support",
                 lambda s: support_share_through(s.in_need, s.support, s.support_bridging_share),
                 family="social capital", meaning="share of support received through contacts of another opinion "
                 "camp (opinions at least confidence apart): bridging", plots=("structure",),
                 label="support across camps", bounds=(0.0, 1.0))
register_outcome("local_support_share",
                 lambda s: support_share_through(s.in_need, s.support, s.support_local_share),
                 family="social capital", meaning="share of support received through people of the same block: "
                 "bonding, geographic", plots=("structure",), label="support from one's own block",
                 bounds=(0.0, 1.0))
register_outcome("online_belonging_correlation", lambda s: correlation(s.online_engagement, s.belonging),
                 family="social capital", meaning="Pearson r across people between online engagement (share of "
                 "recent steps active online) and belonging", bounds=(-1.0, 1.0))

BUILT_IN_OUTCOMES = MappingProxyType(dict(OUTCOMES))


def outcome_names(names: Iterable[str] | None) -> list[str]:
    """The outcomes to record: ``names`` checked against :data:`OUTCOMES`, or all of them for ``None``."""
    chosen = list(OUTCOMES if names is None else names)
    for name in chosen:
        if name not in OUTCOMES:
            raise OutcomeError(f"unknown outcome {name!r}; known: {', '.join(OUTCOMES)}")
    return chosen


def measure(state: ObservedState, names: list[str] | None = None) -> dict[str, float]:
    """Every outcome (or those named) of ``state`` as ``{name: value}``."""
    return {name: OUTCOMES[name].report(state) for name in (OUTCOMES if names is None else names)}


def run_plot_names() -> tuple[str, ...]:
    """The plots a run can draw: those the registered outcomes name, in order of first mention, then ``opinions``."""
    named = dict.fromkeys(plot for outcome in OUTCOMES.values() for plot in outcome.plots)
    return (*named, OPINIONS_PLOT)


def plot_outcomes(plot: str) -> tuple[str, ...]:
    """The outcomes that run plot ``plot`` draws, in the order of its lines (none for ``opinions`` or an unknown plot).

    Ordered by each outcome's ``line_order``, equal ones in the order of :data:`OUTCOMES`.
    """
    members = [outcome for outcome in OUTCOMES.values() if plot in outcome.plots]
    return tuple(outcome.name for outcome in sorted(members, key=lambda outcome: outcome.line_order))
