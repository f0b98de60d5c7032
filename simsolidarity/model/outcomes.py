"""Outcomes: one pure function on arrays per measure, and the table that wires them to a model.

The functions take plain numpy arrays, so the vectorized model, the reference implementation,
the runner and the browser app all measure with the same code. :data:`OUTCOMES` maps each
canonical outcome name to a reporter that reads the arrays from any object with the attributes
of :class:`ObservedState` (``SolidarityModel`` has them all).

Measures that are undefined in a state (a mean over nobody, a correlation without variance)
are ``nan``, never a made-up number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy import stats

from simsolidarity.errors import SimsolidarityError

#: Esteban–Ray polarization: number of equal-width opinion bins on [-1, 1] and the exponent alpha.
ESTEBAN_RAY_BINS = 20
ESTEBAN_RAY_ALPHA = 1.6
#: Opinion clusters: a gap wider than this splits two clusters; a major cluster holds at least
#: this share of people.
CLUSTER_GAP = 0.05
MAJOR_CLUSTER_SHARE = 0.01


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


# --- polarization -------------------------------------------------------------------------------


def opinion_variance(opinion: np.ndarray) -> float:
    """Population variance of opinions (0 at consensus, 1 for a 50/50 split at -1 and +1)."""
    return float(np.var(opinion))


def bimodality(opinion: np.ndarray) -> float:
    """Pfister et al. (2013) bimodality coefficient.

    ``BC = (g^2 + 1) / (k + 3 (n-1)^2 / ((n-2)(n-3)))`` with ``g`` and ``k`` the bias-corrected
    sample skewness and excess kurtosis. 5/9 for a uniform distribution; above it suggests
    bimodality. ``nan`` with fewer than four people or when all opinions are equal.
    """
    n = opinion.size
    if n < 4 or np.ptp(opinion) == 0:
        return float("nan")
    g = stats.skew(opinion, bias=False)
    k = stats.kurtosis(opinion, fisher=True, bias=False)
    return float((g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def esteban_ray(opinion: np.ndarray, bins: int = ESTEBAN_RAY_BINS, alpha: float = ESTEBAN_RAY_ALPHA) -> float:
    """Esteban & Ray (1994) polarization of opinions binned on [-1, 1].

    ``P = K sum_i sum_j pi_i^(1+alpha) pi_j |y_i - y_j|`` over the shares ``pi`` of equal-width
    bins with centres ``y``; ``K`` normalizes a 50/50 split between the two outermost bins to 1.
    One point mass gives 0.
    """
    edges = np.linspace(-1.0, 1.0, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    shares = np.histogram(np.clip(opinion, -1.0, 1.0), bins=edges)[0] / max(opinion.size, 1)
    distance = np.abs(centres[:, None] - centres[None, :])
    raw = float(shares ** (1 + alpha) @ distance @ shares)
    widest = 2 * 0.5 ** (2 + alpha) * (centres[-1] - centres[0])
    return raw / widest


def opinion_clusters(opinion: np.ndarray, gap: float = CLUSTER_GAP, major_share: float = MAJOR_CLUSTER_SHARE) -> int:
    """Number of major opinion clusters.

    Sorted opinions are split wherever two neighbours differ by more than ``gap``; a cluster is
    major when it holds at least ``major_share`` of the people.
    """
    if opinion.size == 0:
        return 0
    ordered = np.sort(opinion)
    sizes = np.diff(np.flatnonzero(np.r_[True, np.diff(ordered) > gap, True]))
    return int(np.count_nonzero(sizes >= major_share * opinion.size))


# --- echo chambers ------------------------------------------------------------------------------


def echo_chamber_index(opinion: np.ndarray, exposure_mean: np.ndarray) -> float:
    """Correlation of each person's opinion with the mean opinion of what the person was exposed to.

    After Cinelli et al. (2021): people with no exposure (``nan``) are left out. 0 when exposure
    is unrelated to one's own opinion, near 1 in closed echo chambers.
    """
    seen = np.isfinite(exposure_mean)
    if np.count_nonzero(seen) < 3:
        return float("nan")
    x, y = opinion[seen], exposure_mean[seen]
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def exposure_diversity(exposure_spread: np.ndarray) -> float:
    """Mean standard deviation of the opinions each person was exposed to (people with exposure)."""
    return _mean_or_nan(exposure_spread[np.isfinite(exposure_spread)])


# --- support and belonging ----------------------------------------------------------------------


def support_received(in_need: np.ndarray, support: np.ndarray) -> float:
    """Mean support received by the people in need this step (``nan`` if nobody was in need)."""
    return _mean_or_nan(support[in_need])


def unmet_need_share(in_need: np.ndarray, support: np.ndarray, depth_need: float) -> float:
    """Share of the people in need whose support fell short of ``depth_need``."""
    return _mean_or_nan(support[in_need] < depth_need)


def mean_of(values: np.ndarray, who: np.ndarray | None = None) -> float:
    """Mean of ``values`` over the people selected by the boolean mask ``who`` (all if ``None``)."""
    return _mean_or_nan(values if who is None else values[who])


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
    return np.bincount(memberships[memberships >= 0], minlength=n_groups)


def active_virtual_groups(sizes: np.ndarray) -> int:
    """Virtual groups with at least two members (a group of one is no community)."""
    return int(np.count_nonzero(sizes >= 2))


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal; ``nan`` if there are none or all are 0)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n, total = ordered.size, ordered.sum()
    if n == 0 or total == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2 * ranks - n - 1) @ ordered / (n * total))


def group_opinion_spread(memberships: np.ndarray, opinion: np.ndarray, n_groups: int) -> float:
    """Mean standard deviation of members' opinions over virtual groups with two or more members."""
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


def share_ties_online(contact_online: np.ndarray) -> float:
    """Share of this step's contacts (meetings and local ties) that were online."""
    return _mean_or_nan(contact_online)


def mean_tie_distance(contact_distance: np.ndarray) -> float:
    """Mean grid distance between the two people of each of this step's contacts (reach)."""
    return _mean_or_nan(contact_distance)


# --- wiring -------------------------------------------------------------------------------------


class ObservedState(Protocol):
    """What a model must expose to be measured; names are those of ``SolidarityModel``."""

    parameters: dict[str, Any]
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


@dataclass(frozen=True)
class Outcome:
    """A canonical outcome: its name, what it measures, and how to read it off a state."""

    name: str
    meaning: str
    report: Callable[[ObservedState], float]
    family: str


def _outcome(name: str, family: str, meaning: str, report: Callable[[Any], float]) -> Outcome:
    return Outcome(name, meaning, report, family)


def _in_need_isolated(s: ObservedState) -> np.ndarray:
    return s.in_need & s.most_isolated


#: Every outcome, by canonical name, collected each step.
OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in [
        _outcome("opinion_variance", "polarization", "variance of opinions",
                 lambda s: opinion_variance(s.opinion)),
        _outcome("bimodality", "polarization", "Pfister's bimodality coefficient of opinions",
                 lambda s: bimodality(s.opinion)),
        _outcome("esteban_ray", "polarization", "Esteban-Ray polarization (20 bins, alpha 1.6)",
                 lambda s: esteban_ray(s.opinion)),
        _outcome("opinion_clusters", "polarization", "major opinion clusters (>= 1% of people)",
                 lambda s: opinion_clusters(s.opinion)),
        _outcome("echo_chamber_index", "echo chamber",
                 "correlation of own opinion with mean opinion met",
                 lambda s: echo_chamber_index(s.opinion, s.exposure_mean)),
        _outcome("exposure_diversity", "echo chamber", "mean spread of the opinions a person met",
                 lambda s: exposure_diversity(s.exposure_spread)),
        _outcome("support_received", "support", "mean support received by people in need",
                 lambda s: support_received(s.in_need, s.support)),
        _outcome("support_online", "support", "mean support through online contacts, people in need",
                 lambda s: support_received(s.in_need, s.support_online)),
        _outcome("support_offline", "support", "mean support through face-to-face contacts, people in need",
                 lambda s: support_received(s.in_need, s.support_offline)),
        _outcome("unmet_need_share", "support", "share of people in need whose support fell short",
                 lambda s: unmet_need_share(s.in_need, s.support, s.parameters["depth_need"])),
        _outcome("support_isolated", "support", "mean support received, most isolated quartile in need",
                 lambda s: support_received(_in_need_isolated(s), s.support)),
        _outcome("belonging", "belonging", "mean belonging", lambda s: mean_of(s.belonging)),
        _outcome("belonging_isolated", "belonging", "mean belonging of the most isolated quartile",
                 lambda s: mean_of(s.belonging, s.most_isolated)),
        _outcome("active_virtual_groups", "structure", "virtual groups with two or more members",
                 lambda s: active_virtual_groups(group_sizes(s.memberships, s.n_virtual_groups))),
        _outcome("group_size_gini", "structure", "Gini coefficient of virtual group sizes",
                 lambda s: gini(group_sizes(s.memberships, s.n_virtual_groups))),
        _outcome("group_opinion_spread", "structure", "mean spread of opinions inside a virtual group",
                 lambda s: group_opinion_spread(s.memberships, s.opinion, s.n_virtual_groups)),
        _outcome("share_ties_online", "structure", "share of this step's contacts that were online",
                 lambda s: share_ties_online(s.contact_online)),
        _outcome("mean_tie_distance", "structure", "mean grid distance of this step's contacts (reach)",
                 lambda s: mean_tie_distance(s.contact_distance)),
    ]
}


def outcome_names(names: Iterable[str] | None) -> list[str]:
    """The outcomes to record: ``names`` checked against :data:`OUTCOMES`, or all of them for ``None``."""
    chosen = list(OUTCOMES if names is None else names)
    for name in chosen:
        if name not in OUTCOMES:
            raise SimsolidarityError(f"unknown outcome {name!r}; known: {', '.join(OUTCOMES)}")
    return chosen


def measure(state: ObservedState, names: list[str] | None = None) -> dict[str, float]:
    """Every outcome (or those named) of ``state`` as ``{name: value}``."""
    return {name: OUTCOMES[name].report(state) for name in (names or OUTCOMES)}
