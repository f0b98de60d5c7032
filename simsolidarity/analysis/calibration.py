"""Calibration of a sweep to observed patterns: which parameter points reproduce every target at once.

An experiment's ``targets`` (see :mod:`simsolidarity.running.experiment`) each give an outcome a
range ``[low, high]`` taken from empirical work. A parameter point's value of an outcome is the
mean over its replicates of each run's final-window mean (as in ``summary.csv``); the point is
*accepted* when every target outcome's value lies inside its range, else *rejected*: approximate
Bayesian computation by rejection, with the sweep's design as the prior, and pattern-oriented
modelling in the sense of Grimm et al. 2005 (Science 310:987), which asks a model to reproduce
several patterns at once.

So that near misses show, each point also gets its distance to the box of targets: per target,
how far its value lies outside ``[low, high]`` divided by the range's width (0 inside; a range of
width 0 measures it in the outcome's own units), combined over the targets as the Euclidean norm.
A point whose value of a target is undefined (nan in every replicate) is rejected, its distance nan.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simsolidarity.analysis.plots import figure_title, is_numeric
from simsolidarity.running.experiment import Experiment, Target
from simsolidarity.running.folders import CALIBRATION, PLOTS, write_table

#: The columns of ``calibration.csv`` after the swept parameters and the target outcomes' means.
ACCEPTED, DISTANCE, RUNS = "accepted", "distance", "runs"
#: The plots of a calibration, in ``plots/``.
MARGINALS_PLOT, PAIRS_PLOT = "calibration_marginals.png", "calibration_pairs.png"
#: Bins of a marginal histogram over a parameter's prior range.
MARGINAL_BINS = 10
#: Colour of the accepted points in the calibration plots.
ACCEPTED_COLOR = "C0"


def target_distances(means: np.ndarray, targets: Sequence[Target]) -> np.ndarray:
    """Each point's normalized distance outside each target's range: one row per point, one column per target.

    ``means`` holds one row per point and one column per target (the target outcome's mean).
    Inside ``[low, high]`` the distance is 0; outside, how far it lies beyond the nearer end
    divided by the range's width (by 1 for a range of width 0); nan where the mean is nan.
    """
    low = np.array([t.low for t in targets], dtype=float)
    high = np.array([t.high for t in targets], dtype=float)
    width = high - low
    outside = np.maximum(np.maximum(low - means, means - high), 0.0)
    # np.maximum propagates nan, so an undefined mean keeps an undefined distance
    return outside / np.where(width > 0, width, 1.0)


def calibrate(summary: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Every parameter point of ``experiment`` against its targets: its values, means, acceptance and distance.

    Args:
        summary: one row per complete run (``summary.csv``): a ``point`` column and the target
            outcomes' final-window means.
        experiment: the experiment, with its ``targets`` and ``points``.

    Returns:
        One row per point, in point order: ``point``, each swept parameter's value, ``runs`` (the
        point's complete runs), each target outcome's mean over them (nan without any), ``accepted``
        (every mean inside its target's range) and ``distance`` (the Euclidean norm of the
        normalized distances of :func:`target_distances`: 0 for an accepted point).
    """
    outcomes = [t.outcome for t in experiment.targets]
    points = pd.DataFrame([{name: values.get(name) for name in experiment.swept} for values in experiment.points],
                          columns=list(experiment.swept))
    points.insert(0, "point", np.arange(len(points)))
    grouped = summary.groupby("point")
    means = grouped[outcomes].mean() if outcomes else pd.DataFrame(index=grouped.size().index)
    table = points.join(grouped.size().rename(RUNS), on="point").join(means, on="point")
    table[RUNS] = table[RUNS].fillna(0).astype(int)
    values = table[outcomes].to_numpy(dtype=float)
    distances = target_distances(values, experiment.targets)
    table[ACCEPTED] = np.all(distances == 0.0, axis=1)  # nan compares unequal: an undefined mean is rejected
    table[DISTANCE] = np.sqrt(np.sum(distances**2, axis=1))
    return table.reset_index(drop=True)


def acceptance(table: pd.DataFrame) -> tuple[int, int]:
    """How many points a calibration accepted, and of how many points with a complete run."""
    run = table[table[RUNS] > 0]
    return int(run[ACCEPTED].sum()), len(run)


def acceptance_text(table: pd.DataFrame) -> str:
    """The acceptance rate in words: ``5 of 48 points accepted (10.4%), inside every target``."""
    accepted, points = acceptance(table)
    rate = f" ({accepted / points:.1%})" if points else ""
    return f"{accepted} of {points} points accepted{rate}, inside every target"


def prior_ranges(experiment: Experiment, table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Each swept numeric parameter's prior range: its ``{start, stop}`` for a range sampler, else the
    span of the values swept."""
    declared = {name: (low, high) for name, low, high in experiment.ranges}
    ranges = {}
    for name in experiment.swept:
        values = list(table[name])
        if name in declared:
            ranges[name] = tuple(map(float, declared[name]))
        elif values and is_numeric(values):
            ranges[name] = (float(min(values)), float(max(values)))
    return ranges


def marginals_figure(table: pd.DataFrame, ranges: dict[str, tuple[float, float]], title: str) -> Figure:
    """One panel per swept numeric parameter: a histogram of every point (the prior, grey outline) and
    of the accepted points (filled), over the parameter's prior range."""
    names = list(ranges)
    columns = min(3, len(names))
    lines = -(-len(names) // columns)
    figure = Figure(figsize=(4.2 * columns, 0.9 + 2.8 * lines), layout="constrained")
    axes = figure.subplots(lines, columns, squeeze=False).ravel()
    accepted = table[ACCEPTED].to_numpy(dtype=bool)
    for ax, name in zip(axes, names, strict=False):
        low, high = ranges[name]
        bins = np.linspace(low, high, MARGINAL_BINS + 1) if high > low else MARGINAL_BINS
        values = table[name].to_numpy(dtype=float)
        ax.hist(values, bins=bins, histtype="step", color="0.45", linewidth=1.2, label="every point")
        ax.hist(values[accepted], bins=bins, color=ACCEPTED_COLOR, alpha=0.7, label="accepted")
        if high > low:
            ax.set_xlim(low, high)
        ax.set_xlabel(name)
        ax.set_ylabel("points")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small", frameon=False)
    figure_title(figure, f"{title}: calibration, each parameter", acceptance_text(table),
                 "outline: every point of the design over the prior range; filled: the accepted points")
    return figure


def pairs_figure(table: pd.DataFrame, ranges: dict[str, tuple[float, float]], title: str) -> Figure:
    """Every pair of swept numeric parameters: the accepted points in colour, the rejected ones in grey,
    darker the nearer the targets (so that near misses show even when no point is accepted).

    The panels form the lower triangle of a matrix (row: y parameter, column: x parameter), so
    that each pair appears once and a parameter keeps its axis along a row or a column.
    """
    names = list(ranges)
    size = len(names) - 1
    figure = Figure(figsize=(0.6 + 2.3 * size, 0.9 + 2.3 * size), layout="constrained")
    axes = figure.subplots(size, size, squeeze=False)
    accepted = table[ACCEPTED].to_numpy(dtype=bool)
    # grey by the rank of the distance, from dark (nearest) to light (farthest or undefined): a rank, not
    # the distance itself, so that a few far points do not wash the near misses into one shade
    rank = table[DISTANCE].rank(pct=True, na_option="bottom").to_numpy(dtype=float)
    shade = 0.15 + 0.7 * rank
    for row, y_name in enumerate(names[1:]):
        for column, x_name in enumerate(names[:-1]):
            ax = axes[row, column]
            if column > row:
                ax.set_visible(False)
                continue
            x, y = table[x_name].to_numpy(dtype=float), table[y_name].to_numpy(dtype=float)
            ax.scatter(x[~accepted], y[~accepted], s=10, c=[str(g) for g in shade[~accepted]], label="rejected")
            ax.scatter(x[accepted], y[accepted], s=16, color=ACCEPTED_COLOR, edgecolors="black", linewidths=0.4,
                       label="accepted")
            for limits, name in ((ax.set_xlim, x_name), (ax.set_ylim, y_name)):
                low, high = ranges[name]
                if high > low:
                    limits(low, high)
            ax.tick_params(labelsize="x-small")
            ax.set_xlabel(x_name if row == size - 1 else "", fontsize="small")
            ax.set_ylabel(y_name if column == 0 else "", fontsize="small")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize="x-small", frameon=False)
    figure_title(figure, f"{title}: calibration, pairs of parameters", acceptance_text(table),
                 "colour: accepted points; grey: rejected points, darker the nearer the targets")
    return figure


def save_calibration_plots(folder: Path, experiment: Experiment, table: pd.DataFrame) -> list[Path]:
    """Draw ``calibration_marginals.png`` (one swept numeric parameter or more) and ``calibration_pairs.png``
    (two or more) into ``folder``; returns the files written."""
    ranges = prior_ranges(experiment, table)
    figures = {MARGINALS_PLOT: marginals_figure if ranges else None,
               PAIRS_PLOT: pairs_figure if len(ranges) >= 2 else None}
    written = []
    for name, draw in figures.items():
        if draw is not None:
            folder.mkdir(parents=True, exist_ok=True)
            draw(table, ranges, experiment.name).savefig(folder / name, dpi=100)
            written.append(folder / name)
    return written


def write_calibration(folder: Path, experiment: Experiment, table: pd.DataFrame, plots: bool) -> pd.DataFrame:
    """Write ``calibration.csv`` of a sweep with targets (and its plots into ``plots/``); returns the table.

    ``table`` is the sweep's summary (one row per complete run).
    """
    calibration = calibrate(table, experiment)
    write_table(folder / CALIBRATION, calibration)
    if plots:
        save_calibration_plots(folder / PLOTS, experiment, calibration)
    return calibration


def closest(table: pd.DataFrame, count: int = 5) -> pd.DataFrame:
    """The ``count`` points nearest the box of targets, nearest first (ties in point order; nan last)."""
    return table.sort_values([DISTANCE, "point"], na_position="last", kind="stable").head(count)


def targets_of(record: dict[str, Any]) -> list[Target]:
    """The targets of a recorded experiment (``experiment.json``), in the order stated."""
    return [Target(outcome, float(spec["range"][0]), float(spec["range"][1]), spec["source"])
            for outcome, spec in (record.get("targets") or {}).items()]
