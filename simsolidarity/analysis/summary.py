"""Summaries across steps and runs: final-window means, and means with confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy import stats


def final_window_mean(series: Mapping[str, Sequence[float]], names: Iterable[str], window: int) -> dict[str, float]:
    """Mean of each named series over its last ``window`` entries, ignoring nan (nan if all are)."""
    result = {}
    for name in names:
        tail = np.asarray(series[name][-window:], dtype=float)
        tail = tail[np.isfinite(tail)]
        result[name] = float(tail.mean()) if tail.size else math.nan
    return result


def mean_ci_columns(x: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean, lower and upper Student-t confidence bounds, and count of finite values of a 2-D array.

    nan entries are left out; the bounds are nan where a column has fewer than two values.
    """
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    n = finite.sum(axis=0)
    total = np.where(finite, x, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        squares = np.where(finite, (x - mean) ** 2, 0.0).sum(axis=0)
        sem = np.sqrt(squares / (n - 1) / n)
        half = stats.t.ppf((1 + confidence) / 2, n - 1) * sem
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half, n


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean, lower and upper Student-t confidence bounds, and the count of finite values.

    The bounds are nan with fewer than two values.
    """
    x = np.asarray([math.nan if v is None else v for v in values], dtype=float).reshape(-1, 1)
    mean, low, high, n = mean_ci_columns(x, confidence)
    return float(mean[0]), float(low[0]), float(high[0]), int(n[0])


def bands_over_runs(
    tables: Iterable[Mapping[str, Sequence[float]]], outcomes: Iterable[str]
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] | None:
    """Per step, the mean and 95% band over runs of each outcome; ``None`` when there are no runs.

    ``tables`` are the runs' time series (each with a ``step`` column, all of the same length).
    """
    tables = list(tables)
    if not tables:
        return None
    steps = np.asarray(tables[0]["step"])
    bands = {}
    for outcome in outcomes:
        mean, low, high, _ = mean_ci_columns(np.array([t[outcome] for t in tables], dtype=float))
        bands[outcome] = (mean, low, high)
    return steps, bands
