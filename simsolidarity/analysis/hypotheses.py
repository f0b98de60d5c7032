"""Hypotheses stated in an experiment file before it runs, and their test on the sweep's summary.

An experiment may state its claim as directions on named outcomes::

    hypothesis:
      claim: Similarity recommendation builds echo chambers.
      expect:
        - outcome: echo_chamber_index
          higher_when: {recommender: similarity}
          than: {recommender: random}

Each expectation compares the runs whose swept values match ``higher_when`` (or ``lower_when``)
with those matching ``than``. With paired replicates the comparison is paired: for each
replicate, the mean over its matching points on one side minus the other side; the verdict
comes from the 95% Student-t interval of those differences (unpaired: Welch's interval of the two
groups of runs). ``supported`` when the interval lies on the expected side of 0, ``contradicted``
when it lies on the other side, ``inconclusive`` when it holds 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from simsolidarity.analysis.summary import mean_ci

DIRECTIONS = ("higher_when", "lower_when")


@dataclass(frozen=True)
class Expectation:
    """One direction on one outcome: ``outcome`` is higher (or lower) when ``when`` than when ``than``."""

    outcome: str
    direction: str  # "higher" or "lower"
    when: dict[str, Any]
    than: dict[str, Any]

    def text(self) -> str:
        """The expectation in words."""
        def values(selection: dict[str, Any]) -> str:
            return ", ".join(f"{k}={v}" for k, v in selection.items())

        return f"{self.outcome} {self.direction} when {values(self.when)} than when {values(self.than)}"


@dataclass(frozen=True)
class Hypothesis:
    """The claim an experiment tests, as expectations."""

    claim: str
    expect: tuple[Expectation, ...]


def _matches(row_values: Mapping[str, Any], selection: Mapping[str, Any]) -> bool:
    return all(_same(row_values[name], value) for name, value in selection.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def evaluate_expectation(expectation: Expectation, table: Mapping[str, list], paired: bool) -> dict[str, Any]:
    """The difference (the ``when`` side minus the ``than`` side) with its 95% CI, and the verdict.

    ``n`` counts the paired replicates (paired) or the smaller group of runs (unpaired).
    """
    rows = range(len(table["run"]))
    values = [{name: table[name][i] for name in table} for i in rows]
    one = [v for v in values if _matches(v, expectation.when)]
    other = [v for v in values if _matches(v, expectation.than)]
    outcome = expectation.outcome
    if paired:
        replicates = sorted({v["replicate"] for v in one} & {v["replicate"] for v in other})

        def mean_of(side: list[dict], replicate: int) -> float:
            return float(np.nanmean([v[outcome] for v in side if v["replicate"] == replicate]))

        differences = [mean_of(one, r) - mean_of(other, r) for r in replicates]
        difference, low, high, n = mean_ci(differences)
    else:
        a = np.array([v[outcome] for v in one], dtype=float)
        b = np.array([v[outcome] for v in other], dtype=float)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        n = min(a.size, b.size)
        difference, low, high = math.nan, math.nan, math.nan
        if a.size >= 2 and b.size >= 2:
            difference = float(a.mean() - b.mean())
            interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
            low, high = float(interval.low), float(interval.high)
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        verdict = "inconclusive"
    elif (low > 0) == (expectation.direction == "higher"):
        verdict = "supported"
    else:
        verdict = "contradicted"
    return {
        "expectation": expectation.text(),
        "outcome": outcome,
        "comparison": "paired" if paired else "unpaired",
        "n": n,
        "difference": difference,
        "low": low,
        "high": high,
        "verdict": verdict,
    }


def evaluate_hypothesis(hypothesis: Hypothesis, table: Mapping[str, list], paired: bool) -> list[dict[str, Any]]:
    """Every expectation of ``hypothesis`` tested on a sweep's summary table."""
    return [evaluate_expectation(e, table, paired) for e in hypothesis.expect]
