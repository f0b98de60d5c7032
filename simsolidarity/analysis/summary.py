"""Summaries across runs: each group's mean of each outcome with its confidence interval.

:func:`summarize` is the one place where runs are grouped, by parameter point (the default) or by
any columns: a sweep's points, the points of a comparison, the levels of a plot, or each step of a
point's time series (``by=("point", "step")``) for bands over time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: The columns :func:`summarize` adds to the grouping columns.
SUMMARY_COLUMNS = ("outcome", "mean", "low", "high", "n")


def summarize(
    table: pd.DataFrame, outcomes: Sequence[str], by: Sequence[str] = ("point",), confidence: float = 0.95
) -> pd.DataFrame:
    """Per group of rows with equal values of ``by`` and per outcome: mean, Student-t interval and count.

    Args:
        table: one row per run (a sweep's summary) or per run and step (its time series).
        outcomes: the outcome columns to summarize.
        by: the columns that define a group (default: the parameter point).
        confidence: the interval's coverage.

    Returns:
        A tidy table: the ``by`` columns, then ``outcome``, ``mean``, ``low``, ``high`` and ``n`` (the
        number of finite values). Missing values (nan) are left out; the bounds are nan for a group
        with fewer than two values. Groups come in the order they first appear in ``table``, outcomes
        in the order given.
    """
    by = list(by)
    long = table.melt(id_vars=by, value_vars=list(outcomes), var_name="outcome", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce").where(lambda v: np.isfinite(v))
    grouped = long.groupby([*by, "outcome"], sort=False, dropna=False)["value"]
    result = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    n = result["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = stats.t.interval(confidence, np.maximum(n - 1, 1), loc=result["mean"],
                                     scale=result["sd"] / np.sqrt(n))
    result["low"] = np.where(n >= 2, low, np.nan)
    result["high"] = np.where(n >= 2, high, np.nan)
    order = {name: i for i, name in enumerate(outcomes)}
    result = result.sort_values("outcome", key=lambda column: column.map(order), kind="stable")
    return result[[*by, *SUMMARY_COLUMNS]].reset_index(drop=True)


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of the finite ``values``, its Student-t interval (scipy) and their count; nan bounds below two."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return (float(x.mean()) if x.size else float("nan")), float("nan"), float("nan"), int(x.size)
    interval = stats.ttest_1samp(x, 0.0).confidence_interval(confidence)
    return float(x.mean()), float(interval.low), float(interval.high), int(x.size)
