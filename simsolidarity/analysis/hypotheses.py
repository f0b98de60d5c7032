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

Each expectation's row carries its ``kind``: ``mechanism`` rows check the implementation (their
direction follows from one rule of the model), ``emergent`` rows are findings. ``relative_to``
compares the gap between two outcomes of each run (``support_isolated - support_received``).

A verdict on polarization must survive a second measure of a different kind. An expectation on a
polarization measure is tested on each measure of
:data:`~simsolidarity.running.experiment.POLARIZATION_CHECKS` too (rows of ``role`` ``check``):
its verdict is ``supported`` or ``contradicted`` only where the kernel measure
(``duclos_esteban_ray``) and at least one moment measure (``opinion_variance`` or ``bimodality``)
move the same way with intervals that exclude 0, and the stated measure does not move the other way;
``depends on the measure`` where some measure moves and that does not hold; ``inconclusive`` where
none moves. Each row's own result is in ``measured``; the expectation's verdict, the same on all its
rows, in ``verdict``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from simsolidarity.running.experiment import (
    KERNEL_POLARIZATION,
    MOMENT_POLARIZATION,
    Expectation,
    Hypothesis,
)

#: The columns of a hypothesis test's table: one row per expectation (``role`` ``stated``), then one
#: per measure it is checked with (``role`` ``check``).
VERDICT_COLUMNS = ("expectation", "outcome", "kind", "role", "comparison", "n", "difference", "low", "high",
                   "measured", "verdict")
#: The verdicts: a measure's own (``measured``) is one of the first three.
SUPPORTED, CONTRADICTED, INCONCLUSIVE, DEPENDS = "supported", "contradicted", "inconclusive", "depends on the measure"


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


def compare(expectation: Expectation, table: pd.DataFrame, paired: bool) -> dict[str, Any]:
    """The difference (the ``when`` side minus the ``than`` side) of the expectation's measure, its 95% CI,
    and the result on that one measure (``measured``).

    ``table`` is a sweep's summary (one row per run). ``n`` counts the paired replicates (paired)
    or the smaller group of runs (unpaired). A measure the table lacks (a folder recorded before it
    existed) compares as undefined: ``inconclusive``.
    """
    from scipy import stats  # here: scipy.stats takes most of a second to import, which a run never needs
    outcome, relative_to = expectation.outcome, expectation.relative_to
    values = pd.Series(np.nan, index=table.index)
    if outcome in table and (relative_to is None or relative_to in table):
        values = table[outcome] - (0.0 if relative_to is None else table[relative_to])
    table = table.assign(_measure=values.astype(float))
    one, other = _matching(table, expectation.when), _matching(table, expectation.than)
    difference, low, high = math.nan, math.nan, math.nan
    if paired:
        # One value per replicate on each side: the mean over its matching points.
        sides = pd.concat([one.groupby("replicate")["_measure"].mean(), other.groupby("replicate")["_measure"].mean()],
                          axis=1, keys=["one", "other"], join="inner").dropna()
        n = len(sides)
        if n >= 2:
            difference = float((sides["one"] - sides["other"]).mean())
            interval = stats.ttest_rel(sides["one"], sides["other"]).confidence_interval(0.95)
            low, high = float(interval.low), float(interval.high)
        elif n == 1:
            difference = float(sides["one"].iloc[0] - sides["other"].iloc[0])
    else:
        a, b = one["_measure"].dropna().to_numpy(dtype=float), other["_measure"].dropna().to_numpy(dtype=float)
        n = min(a.size, b.size)
        if a.size >= 2 and b.size >= 2:
            difference = float(a.mean() - b.mean())
            interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
            low, high = float(interval.low), float(interval.high)
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        measured = INCONCLUSIVE
    elif (low > 0) == (expectation.direction == "higher"):
        measured = SUPPORTED
    else:
        measured = CONTRADICTED
    return {"comparison": "paired" if paired else "unpaired", "n": n, "difference": difference, "low": low,
            "high": high, "measured": measured}


def polarization_verdict(measured: Mapping[str, str], stated: str) -> str:
    """The verdict of a polarization expectation from each measure's own result (by outcome name).

    It holds (``supported`` or ``contradicted``) only where the kernel measure and at least one moment
    measure agree with intervals excluding 0 and ``stated``, the measure the expectation names, does
    not move the other way; else ``depends on the measure`` if any measure moved, else ``inconclusive``.
    """
    kernel = measured.get(KERNEL_POLARIZATION, INCONCLUSIVE)
    if kernel != INCONCLUSIVE and any(measured.get(m) == kernel for m in MOMENT_POLARIZATION):
        opposite = CONTRADICTED if kernel == SUPPORTED else SUPPORTED
        if measured.get(stated) != opposite:
            return kernel
    return DEPENDS if any(result != INCONCLUSIVE for result in measured.values()) else INCONCLUSIVE


def evaluate_expectation(expectation: Expectation, table: pd.DataFrame, paired: bool) -> list[dict[str, Any]]:
    """The rows of one expectation: its own measure (``stated``), then each measure it is checked with."""
    base = {"expectation": expectation.text(), "kind": expectation.kind}
    rows = [{**base, "outcome": expectation.measure, "role": "stated", **compare(expectation, table, paired)}]
    for measure in expectation.checks:
        rows.append({**base, "outcome": measure, "role": "check",
                     **compare(replace(expectation, outcome=measure), table, paired)})
    if expectation.checks:
        verdict = polarization_verdict({row["outcome"]: row["measured"] for row in rows}, expectation.outcome)
    else:
        verdict = rows[0]["measured"]
    return [{**row, "verdict": verdict} for row in rows]


def evaluate_hypothesis(hypothesis: Hypothesis, table: pd.DataFrame, paired: bool) -> pd.DataFrame:
    """Every expectation of ``hypothesis`` tested on a sweep's summary: its rows, in order."""
    rows = [row for e in hypothesis.expect for row in evaluate_expectation(e, table, paired)]
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
