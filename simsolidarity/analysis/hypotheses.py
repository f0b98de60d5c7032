"""The test of an experiment's hypothesis, stated before it ran, on the sweep's summary.

An experiment may state its claim as directions on named outcomes::

    hypothesis:
      claim: Similarity recommendation builds echo chambers.
      expect:
        - outcome: echo_chamber_index
          higher_when: {recommender: similarity}
          than: {recommender: random}

Each expectation (:class:`~simsolidarity.running.experiment.Expectation`) compares the runs whose
swept values match ``higher_when`` (or ``lower_when``) with those matching ``than``. With paired
replicates the comparison is paired: per replicate, the mean over its matching points on each
side, and the 95% interval of the paired difference (scipy's ``ttest_rel``); unpaired, Welch's
interval of the two groups of runs (``ttest_ind``). ``supported`` when the interval lies on the
expected side of 0, ``contradicted`` when it lies on the other side, ``inconclusive`` when it holds 0.

Each row carries the expectation's ``kind``: ``mechanism`` rows check the implementation (their
direction follows from one rule of the model), ``emergent`` rows are findings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simsolidarity.running.experiment import Expectation, Hypothesis

#: The columns of a hypothesis test's table, one row per expectation.
VERDICT_COLUMNS = ("expectation", "outcome", "kind", "comparison", "n", "difference", "low", "high", "verdict")


def _matching(table: pd.DataFrame, selection: Mapping[str, Any]) -> pd.DataFrame:
    """The rows whose values equal ``selection`` (numbers within rounding)."""
    keep = np.ones(len(table), dtype=bool)
    for name, value in selection.items():
        column = table[name]
        if isinstance(value, int | float) and not isinstance(value, bool) and pd.api.types.is_numeric_dtype(column):
            keep &= np.isclose(column.to_numpy(dtype=float), value, rtol=1e-9, atol=1e-12)
        else:
            keep &= (column == value).to_numpy()
    return table[keep]


def evaluate_expectation(expectation: Expectation, table: pd.DataFrame, paired: bool) -> dict[str, Any]:
    """The difference (the ``when`` side minus the ``than`` side) with its 95% CI, and the verdict.

    ``table`` is a sweep's summary (one row per run). ``n`` counts the paired replicates (paired)
    or the smaller group of runs (unpaired).
    """
    outcome = expectation.outcome
    one = _matching(table, expectation.when)
    other = _matching(table, expectation.than)
    difference, low, high = math.nan, math.nan, math.nan
    if paired:
        # One value per replicate on each side: the mean over its matching points.
        sides = pd.concat([one.groupby("replicate")[outcome].mean(), other.groupby("replicate")[outcome].mean()],
                          axis=1, keys=["one", "other"], join="inner").dropna()
        n = len(sides)
        if n >= 2:
            difference = float((sides["one"] - sides["other"]).mean())
            interval = stats.ttest_rel(sides["one"], sides["other"]).confidence_interval(0.95)
            low, high = float(interval.low), float(interval.high)
        elif n == 1:
            difference = float(sides["one"].iloc[0] - sides["other"].iloc[0])
    else:
        a, b = one[outcome].dropna().to_numpy(dtype=float), other[outcome].dropna().to_numpy(dtype=float)
        n = min(a.size, b.size)
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
    return dict(zip(VERDICT_COLUMNS, (expectation.text(), outcome, expectation.kind, "paired" if paired else "unpaired",
                                      n, difference, low, high, verdict), strict=True))


def evaluate_hypothesis(hypothesis: Hypothesis, table: pd.DataFrame, paired: bool) -> pd.DataFrame:
    """Every expectation of ``hypothesis`` tested on a sweep's summary: one row each."""
    return pd.DataFrame([evaluate_expectation(e, table, paired) for e in hypothesis.expect],
                        columns=list(VERDICT_COLUMNS))
