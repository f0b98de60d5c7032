"""The Duclos–Esteban–Ray polarization index against direct double sums, textbook distributions and binning."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from simsolidarity.model.outcomes import (
    OUTCOMES,
    duclos_esteban_ray,
    esteban_ray,
    opinion_variance,
    polarization_bandwidth,
)

from .conftest import SMALL

ALPHA = 0.25
#: How close the grid estimate comes to the exact n x n one at about 2,000 people (relative); the
#: errors found are 1e-7 to 3e-6.
FAST_TOLERANCE = 1e-5


def paper_bandwidth(x: np.ndarray, alpha: float = ALPHA) -> float:
    """The rule of Duclos, Esteban & Ray (2004), written out here: 4.7 n^(-1/2) sigma alpha^0.1."""
    return 4.7 / np.sqrt(x.size) * np.std(x, ddof=1) * alpha**0.1


def exact_density(x: np.ndarray, h: float) -> np.ndarray:
    """The Gaussian kernel density estimate at each opinion: a direct n x n sum."""
    return stats.norm.pdf((x[:, None] - x[None, :]) / h).sum(axis=1) / (x.size * h)


def exact_index(x: np.ndarray, alpha: float = ALPHA, h: float | None = None) -> float:
    """P = (1/n) sum_i f(x_i)^alpha (1/n) sum_j |x_i - x_j|, every sum written out over all pairs."""
    x = np.asarray(x, dtype=float)
    h = paper_bandwidth(x, alpha) if h is None else h
    alienation = np.abs(x[:, None] - x[None, :]).mean(axis=1)
    return float(np.mean(exact_density(x, h) ** alpha * alienation))


def normal_quantiles(n: int, mean: float, sd: float) -> np.ndarray:
    """n opinions at the midpoint quantiles of a normal: a sample without sampling noise."""
    return stats.norm.ppf((np.arange(n) + 0.5) / n, mean, sd)


def test_a_point_mass_is_not_polarized():
    """Catches: nan or a division by a zero bandwidth at consensus, or an alienation above 0 when all agree."""
    assert duclos_esteban_ray(np.full(500, 0.3)) == 0.0
    assert duclos_esteban_ray(np.full(500, -1.0), bandwidth=0.1) == 0.0


def test_two_symmetric_point_masses_match_the_double_sum_and_are_more_polarized_than_one():
    """Catches: a wrong alienation term a(x_i), a bandwidth other than the paper's rule, or a missing exponent.

    Half the people at -0.5, half at +0.5: everyone's mean distance is 0.5 and the density at each
    clump is (phi(0) + phi(1/h)) / 2h, so P = 0.5 ((phi(0) + phi(1/h)) / 2h)^alpha.
    """
    x = np.r_[np.full(200, -0.5), np.full(200, 0.5)]
    h = paper_bandwidth(x)
    by_hand = 0.5 * ((stats.norm.pdf(0) + stats.norm.pdf(1 / h)) / (2 * h)) ** ALPHA
    assert exact_index(x) == pytest.approx(by_hand, rel=1e-12)
    assert duclos_esteban_ray(x) == pytest.approx(by_hand, rel=FAST_TOLERANCE)
    assert duclos_esteban_ray(x) > duclos_esteban_ray(np.full(400, 0.5)) == 0.0


def test_a_uniform_matches_the_double_sum_and_the_double_integral():
    """Catches: a density estimate off by a constant factor (a missing 1/n or 1/h) or a kernel cut too short.

    On the uniform density 1/2 on [-1, 1], P = ∫∫ (1/2)^(1+alpha) (1/2) |y - x| dy dx = (2/3) 2^-alpha.
    The kernel spills past ±1 and biases the estimate down by about 0.09% at 200,001 people.
    """
    x = np.linspace(-1.0, 1.0, 2001)
    assert duclos_esteban_ray(x) == pytest.approx(exact_index(x), rel=FAST_TOLERANCE)
    population = integrate.dblquad(lambda y, z: 0.5 ** (1 + ALPHA) * 0.5 * abs(y - z), -1, 1, -1, 1)[0]
    assert population == pytest.approx(2 / 3 * 2**-ALPHA, rel=1e-8)
    assert duclos_esteban_ray(np.linspace(-1.0, 1.0, 200_001)) == pytest.approx(population, rel=2e-3)


def test_two_clumps_are_more_polarized_than_one_hump_of_the_same_variance():
    """Catches: identification dropped (alpha ignored), which leaves a spread measure that ranks them the other way.

    Equal variance by construction; the mean absolute difference (alpha = 0) is larger for the
    single hump, the index with alpha = 0.25 larger for the two clumps.
    """
    hump = normal_quantiles(2000, 0.0, 0.25)
    clumps = np.r_[normal_quantiles(1000, -0.237, 0.08), normal_quantiles(1000, 0.237, 0.08)]
    clumps *= hump.std() / clumps.std()
    assert opinion_variance(clumps) == pytest.approx(opinion_variance(hump), rel=1e-12)
    assert np.abs(np.r_[hump, clumps]).max() < 1.0
    assert duclos_esteban_ray(hump) == pytest.approx(exact_index(hump), rel=FAST_TOLERANCE)
    assert duclos_esteban_ray(clumps) == pytest.approx(exact_index(clumps), rel=FAST_TOLERANCE)
    assert duclos_esteban_ray(clumps) > 1.1 * duclos_esteban_ray(hump)
    assert duclos_esteban_ray(clumps, alpha=0) < duclos_esteban_ray(hump, alpha=0)


def test_the_order_of_the_people_does_not_matter():
    """Catches: the alienation term computed on the opinions as given instead of sorted."""
    x = np.random.default_rng(3).uniform(-1, 1, 1500)
    shuffled = np.random.default_rng(4).permutation(x)
    assert duclos_esteban_ray(shuffled) == duclos_esteban_ray(x)
    assert duclos_esteban_ray(x[::-1]) == duclos_esteban_ray(x)


@pytest.mark.parametrize("sample", ["two humps", "consensus and stragglers", "uniform"])
def test_the_grid_estimate_agrees_with_the_exact_one_at_2000_people(sample):
    """Catches: a grid much coarser than h/128, a kernel cut too short, or far gaps closed below the kernel's reach.

    The docstring's bound: every density within eps = phi(0) / (4 * 128^2 h) of the exact one, so the
    index within a relative alpha eps / (f_min - eps); and within FAST_TOLERANCE.
    """
    rng = np.random.default_rng(11)
    x = {"two humps": np.clip(np.r_[rng.normal(-0.5, 0.1, 1000), rng.normal(0.5, 0.1, 1000)], -1, 1),
         "consensus and stragglers": np.r_[rng.normal(0.0, 0.05, 1900), rng.uniform(0.6, 1.0, 100)],
         "uniform": rng.uniform(-1, 1, 2000)}[sample]
    h = paper_bandwidth(x)
    assert polarization_bandwidth(x) == pytest.approx(h, rel=1e-12)
    exact = exact_index(x)
    eps = stats.norm.pdf(0) / (4 * 128**2 * h)
    bound = ALPHA * eps / (exact_density(x, h).min() - eps)
    error = abs(duclos_esteban_ray(x) - exact) / exact
    assert error <= bound
    assert error <= FAST_TOLERANCE


def test_it_does_not_hinge_on_bins():
    """Catches: a density read off fixed bins (a histogram, or a grid pinned to -1) instead of a kernel estimate.

    Two tight camps just below the 0.1-wide bin edges of esteban_ray at 0.2 and -0.3; shifting
    everyone by 0.005 splits each camp across an edge, and esteban_ray falls by more than half.
    """
    x = np.r_[np.linspace(0.19, 0.1999, 1000), np.linspace(-0.31, -0.3001, 1000)]
    shifted = x + 0.005
    assert esteban_ray(shifted) < 0.5 * esteban_ray(x)
    assert duclos_esteban_ray(shifted) == pytest.approx(duclos_esteban_ray(x), rel=1e-9)


def test_rescaling_opinions_scales_the_index_by_the_power_one_minus_alpha():
    """Catches: a fixed bandwidth (not proportional to the spread) or a normalization by the mean opinion."""
    x = np.random.default_rng(5).uniform(-1, 1, 2000)
    for alpha in (0.25, 1.0):
        assert duclos_esteban_ray(0.5 * x, alpha) == pytest.approx(0.5 ** (1 - alpha) * duclos_esteban_ray(x, alpha),
                                                                   rel=1e-9)


def test_undefined_and_refused_inputs():
    """Catches: a made-up number for one person or an unreadable opinion, a silent negative alpha or bandwidth, or a
    grid allowed to grow without limit."""
    assert np.isnan(duclos_esteban_ray(np.array([0.4])))
    assert np.isnan(duclos_esteban_ray(np.array([])))
    assert np.isnan(duclos_esteban_ray(np.array([0.1, np.nan, 0.3])))
    with pytest.raises(ValueError, match="alpha"):
        duclos_esteban_ray(np.array([0.1, 0.3]), alpha=-0.5)
    with pytest.raises(ValueError, match="bandwidth"):
        duclos_esteban_ray(np.array([0.1, 0.3]), bandwidth=0.0)
    with pytest.raises(ValueError, match="too narrow"):  # would need about 10^8 grid nodes
        duclos_esteban_ray(np.linspace(-1, 1, 100_000), bandwidth=1e-9)


def test_it_is_a_recorded_polarization_outcome_drawn_in_the_polarization_plot():
    """Catches: the outcome left unregistered, filed under another family or plot, given an upper bound it can pass,
    or read off something other than the model's opinions."""
    from simsolidarity.model.model import SolidarityModel

    outcome = OUTCOMES["duclos_esteban_ray"]
    assert outcome.family == "polarization" and "polarization" in outcome.plots
    assert outcome.label == "Duclos-Esteban-Ray polarization" and outcome.bounds == (0.0, None)
    model = SolidarityModel(SMALL, rng=7)
    model.step()
    assert model.outcomes()["duclos_esteban_ray"] == duclos_esteban_ray(model.opinion) > 0
