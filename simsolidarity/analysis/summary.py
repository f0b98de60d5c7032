"""Summaries across runs: each group's mean of each outcome with its confidence interval.

:func:`summarize` is the one place where runs are grouped, by parameter point (the default) or by
any columns: a sweep's points, the points of a comparison, the levels of a plot, or each step of a
point's time series (``by=("point", "step")``) for bands over time.

An outcome registered with bounds (a share in [0, 1], a correlation in [-1, 1], a count >= 0)
gets a percentile bootstrap interval: it is made of means of resampled runs, so it never leaves
the range the measure can take, where a Student-t interval of a few runs near a bound would. Any
other column gets the Student-t interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from simsolidarity.model.outcomes import OUTCOMES

#: The columns :func:`summarize` adds to the grouping columns.
SUMMARY_COLUMNS = ("outcome", "mean", "low", "high", "n", "interval")
#: The ``interval`` of an outcome with bounds: a percentile bootstrap interval of the mean.
BOOTSTRAP = "bootstrap"
#: The ``interval`` of any other column: the Student-t interval of the mean.
STUDENT_T = "t"
#: Each kind of interval in words, for the notes of tables and plots.
INTERVAL_WORDS = {BOOTSTRAP: "percentile bootstrap", STUDENT_T: "Student-t"}
#: Resamples of a bootstrap interval (enough for the 2.5% and 97.5% percentiles of a 95% interval).
BOOTSTRAP_RESAMPLES = 2000
#: The seed of the resampling: the same runs give the same interval, whatever else is summarized.
BOOTSTRAP_SEED = 20_260_101
#: Most resampled values held in memory at once (64 MiB of float64): many groups are resampled together.
BOOTSTRAP_BATCH_VALUES = 1 << 23


def interval_kind(outcome: str) -> str:
    """:data:`BOOTSTRAP` for a registered outcome with a bound, :data:`STUDENT_T` for any other column."""
    registered = OUTCOMES.get(outcome)
    return BOOTSTRAP if registered is not None and registered.bounded else STUDENT_T


def interval_note(kinds: Iterable[str], confidence: float = 0.95) -> str:
    """The intervals of a table or plot in words: ``95% percentile bootstrap interval of the mean``."""
    words = " or ".join(INTERVAL_WORDS[kind] for kind in sorted(set(kinds)))
    return f"{confidence:.0%} {words} interval of the mean"


def summarize(
    table: pd.DataFrame, outcomes: Sequence[str], by: Sequence[str] = ("point",), confidence: float = 0.95
) -> pd.DataFrame:
    """Per group of rows with equal values of ``by`` and per outcome: mean, confidence interval and count.

    Args:
        table: one row per run (a sweep's summary) or per run and step (its time series).
        outcomes: the outcome columns to summarize.
        by: the columns that define a group (default: the parameter point).
        confidence: the interval's coverage.

    Returns:
        A tidy table: the ``by`` columns, then ``outcome``, ``mean``, ``low``, ``high``, ``n`` (the
        number of finite values) and ``interval``: ``bootstrap`` for a registered outcome with
        bounds (a percentile bootstrap interval, seeded, so the same values give the same
        interval; inside the outcome's bounds), ``t`` for any other column (Student-t). Missing
        values (nan) are left out; the bounds are nan for a group with fewer than two values.
        Groups come in the order they first appear in ``table``, outcomes in the order given.
    """
    from scipy import stats  # here: scipy.stats takes most of a second to import, which a run never needs
    by = list(by)
    long = table.melt(id_vars=by, value_vars=list(outcomes), var_name="outcome", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce").where(lambda v: np.isfinite(v))
    grouped = long.groupby([*by, "outcome"], sort=False, dropna=False)["value"]
    result = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    kinds = {name: interval_kind(name) for name in outcomes}
    result["interval"] = result["outcome"].map(kinds)
    n = result["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = stats.t.interval(confidence, np.maximum(n - 1, 1), loc=result["mean"],
                                     scale=result["sd"] / np.sqrt(n))
    low, high = np.where(n >= 2, low, np.nan), np.where(n >= 2, high, np.nan)
    resampled = (result["interval"] == BOOTSTRAP).to_numpy() & (n >= 2)
    if resampled.any():
        # ngroup numbers the groups in the order agg lists them (both in order of first appearance)
        _bootstrap_into(low, high, grouped.ngroup().to_numpy(), long["value"].to_numpy(), n, resampled, confidence)
    result["low"], result["high"] = low, high
    order = {name: i for i, name in enumerate(outcomes)}
    result = result.sort_values("outcome", key=lambda column: column.map(order), kind="stable")
    return result[[*by, *SUMMARY_COLUMNS]].reset_index(drop=True)


def _bootstrap_into(
    low: np.ndarray, high: np.ndarray, group: np.ndarray, values: np.ndarray, n: np.ndarray, chosen: np.ndarray,
    confidence: float,
) -> None:
    """Write the percentile bootstrap interval of each ``chosen`` group's mean into ``low`` and ``high``.

    ``group`` numbers the group of each value (nan for a missing one); ``n`` counts each group's
    finite values. Groups of equal size are resampled together, as the rows of one array, with
    the same resampling of positions; each group's values are sorted first, so its interval
    depends on its values alone, not on their order nor on the other groups.
    """
    finite = np.isfinite(values)
    group, values = group[finite], values[finite]
    ordered = np.lexsort((values, group))
    group, values = group[ordered], values[ordered]
    position = np.arange(group.size) - np.searchsorted(group, group, side="left")
    for size in np.unique(n[chosen]):
        members = np.flatnonzero(chosen & (n == size))
        rows = np.isin(group, members)
        sample = np.empty((members.size, size))
        sample[np.searchsorted(members, group[rows]), position[rows]] = values[rows]
        low[members], high[members] = percentile_bootstrap(sample, confidence)


def percentile_bootstrap(sample: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The percentile bootstrap interval of the mean of each row of ``sample`` (scipy, seeded).

    Made of means of resampled rows, so it lies between the row's least and greatest value.
    """
    from scipy import stats  # here: scipy.stats takes most of a second to import, which a run never needs
    batch = max(1, min(BOOTSTRAP_RESAMPLES, BOOTSTRAP_BATCH_VALUES // sample.size))
    result = stats.bootstrap(
        (sample,), np.mean, n_resamples=BOOTSTRAP_RESAMPLES, batch=batch, vectorized=True, axis=-1,
        confidence_level=confidence, method="percentile", rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)
