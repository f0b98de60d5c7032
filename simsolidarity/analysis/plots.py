"""Plots of a run: each a named figure drawn from the run's time series with matplotlib.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never pyplot,
so drawing works without a display and without global state.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simsolidarity.analysis.summary import interval_note, summarize
from simsolidarity.model.outcomes import OPINIONS_PLOT, OUTCOMES, plot_outcomes, run_plot_names
from simsolidarity.running.executors import usable_cores
from simsolidarity.running.results import Sweep

Series = Mapping[str, np.ndarray]
#: Opinions of every person at a given step, e.g. ``{0: start, 200: end}``.
Snapshots = Mapping[int, np.ndarray]


@dataclass(frozen=True)
class Plot:
    """A figure of a run: its name, title, the outcomes it needs, and how it is drawn."""

    name: str
    title: str
    outcomes: tuple[str, ...]
    draw: Callable[[Figure, Series, Snapshots], None]


def _lines(ylabel: str, labels: Mapping[str, str], reference: tuple[float, str] | None = None):
    """A drawing of the named outcomes against the step, one line each, on one axis."""

    def draw(figure: Figure, series: Series, snapshots: Snapshots) -> None:
        ax = figure.subplots()
        for name, label in labels.items():
            ax.plot(series["step"], series[name], label=label, linewidth=1.4)
        if reference is not None:
            ax.axhline(reference[0], color="grey", linestyle=":", linewidth=1, label=reference[1])
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)

    return draw


def _opinion_histograms(figure: Figure, series: Series, snapshots: Snapshots) -> None:
    ax = figure.subplots()
    bins = np.linspace(-1, 1, 41)
    for (step, opinions), color in zip(sorted(snapshots.items()), ("tab:grey", "tab:purple"), strict=False):
        ax.hist(opinions, bins=bins, color=color, alpha=0.55, label=f"step {step}", histtype="stepfilled")
    ax.set_xlabel("opinion (-1 to 1)")
    ax.set_ylabel("people")
    ax.legend(loc="best", fontsize="small", frameon=False)


@dataclass(frozen=True)
class LineAxes:
    """How a run plot of outcome lines is titled and scaled; its lines come from the outcome registry.

    Attributes:
        title: the figure's title, after the scenario's name.
        ylabel: the y axis's label.
        reference: a horizontal line at ``(value, legend)``, or ``None``.
    """

    title: str
    ylabel: str
    reference: tuple[float, str] | None = None


#: Title, y label and reference line of each built-in plot of outcome lines, by plot name. Which
#: outcomes it draws, in which order and with which legend, each outcome's registration says
#: (:func:`~simsolidarity.model.outcomes.register_outcome`); a plot named by no entry here is titled
#: by its name.
LINE_PLOT_AXES: dict[str, LineAxes] = {
    "polarization": LineAxes("polarization", "index (Duclos-Esteban-Ray can exceed 1)", (5 / 9, "uniform (BC = 5/9)")),
    "echo_chamber": LineAxes("echo chambers", "correlation / opinion std"),
    "support": LineAxes("support for people in need", "support (0-1, depth-weighted)"),
    "belonging": LineAxes("belonging", "belonging (0-1)"),
    "structure": LineAxes("structure and social capital", "share / Gini (0-1)"),
}

_OPINIONS = Plot(OPINIONS_PLOT, "opinion distribution at start and end", (), _opinion_histograms)


def run_plot(name: str) -> Plot:
    """The run plot ``name`` as the outcome registry has it now: the opinion histograms, or a line per outcome.

    Raises:
        KeyError: for a name that is not ``opinions`` and that no registered outcome names.
    """
    if name == OPINIONS_PLOT:
        return _OPINIONS
    outcomes = plot_outcomes(name)
    if not outcomes:
        raise KeyError(name)
    axes = LINE_PLOT_AXES.get(name) or LineAxes(name, "value")
    labels = {outcome: OUTCOMES[outcome].label for outcome in outcomes}
    return Plot(name, axes.title, outcomes, _lines(axes.ylabel, labels, axes.reference))


class _RunPlots(Mapping[str, Plot]):
    """The run plots by name, built from the outcome registry when asked for (so a registered outcome shows)."""

    def __getitem__(self, name: str) -> Plot:
        return run_plot(name)

    def __iter__(self) -> Iterator[str]:
        return iter(run_plot_names())

    def __len__(self) -> int:
        return len(run_plot_names())


#: The plots a run can draw, by name, in the order of
#: :func:`~simsolidarity.model.outcomes.run_plot_names`: read from the outcome registry each time.
PLOTS: Mapping[str, Plot] = _RunPlots()


def render(name: str, series: Series, snapshots: Snapshots, scenario: str) -> Figure:
    """The figure ``name`` of a run, titled with the scenario's name."""
    plot = PLOTS[name]
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    plot.draw(figure, series, snapshots)
    figure.suptitle(f"{scenario}: {plot.title}")
    return figure


def save_plots(folder: Path, names: tuple[str, ...], series: Series, snapshots: Snapshots, scenario: str) -> list[Path]:
    """Draw each named plot into ``folder/<name>.png``; returns the files written.

    With several plots and cores, the plots are drawn side by side in processes forked from this one
    (each plot is some 0.15 s of matplotlib's own Python), where forking is safe: on Linux, from a
    process without other threads. An error in one reaches the caller as it would here.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png" for name in names]
    drawers = min(len(names), usable_cores())
    if drawers > 1 and sys.platform == "linux" and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")  # the children have this process's registries
        with futures.ProcessPoolExecutor(drawers, mp_context=context) as pool:
            list(pool.map(_save_plot, names, paths, repeat(series), repeat(snapshots), repeat(scenario)))
    else:
        for name, path in zip(names, paths, strict=True):
            _save_plot(name, path, series, snapshots, scenario)
    return paths


def _save_plot(name: str, path: Path, series: Series, snapshots: Snapshots, scenario: str) -> None:
    render(name, series, snapshots, scenario).savefig(path, dpi=110)


# --- sweeps -----------------------------------------------------------------------------------------

#: More parameter points than this are not drawn as separate time series (the figure would be unreadable).
MAX_TIMESERIES_POINTS = 12
#: Most series (lines, or sets of points with error bars) in one panel; more are split over panels.
MAX_SERIES = 6
#: The marker and line style of the i-th series of a panel: series that coincide stay visible, the
#: open markers of one inside the other's, the dashes of one over the other's line.
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")
SERIES_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
#: How far apart, in category widths, the error bars of neighbouring series at one category are drawn.
DODGE = 0.12


def is_numeric(values: list) -> bool:
    """Whether every value is a number (not a bool): a parameter to draw on a numeric axis."""
    return all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values)


def point_label(values: Mapping[str, object]) -> str:
    """A parameter point in words: ``recommender=similarity, homophily=0.8``."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def panels_of(items: Sequence[Any], most: int = MAX_SERIES) -> list[list[Any]]:
    """``items`` split in order into the fewest panels of at most ``most`` each, as even as can be."""
    items = list(items)
    count = max(math.ceil(len(items) / most), 1)
    size, extra = divmod(len(items), count)
    cuts = np.cumsum([0] + [size + (i < extra) for i in range(count)])
    return [items[start:stop] for start, stop in zip(cuts[:-1], cuts[1:], strict=True)]


def _style(index: int) -> dict[str, Any]:
    """Colour, marker and line style of the ``index``-th series of a panel: no two alike within a panel."""
    return {"color": f"C{index}", "marker": SERIES_MARKERS[index % len(SERIES_MARKERS)],
            "linestyle": SERIES_LINESTYLES[index % len(SERIES_LINESTYLES)]}


def _error(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The means and their error bar lengths below and above (0 where the interval touches the mean)."""
    mean, low, high = (rows[name].to_numpy(dtype=float) for name in ("mean", "low", "high"))
    # a bootstrap interval of equal values may differ from their mean in the last bit
    return mean, np.clip(np.stack([mean - low, high - mean]), 0.0, None)


def _draw_series(ax, x: np.ndarray, rows: pd.DataFrame, label: str | None, index: int, numeric: bool,
                 offset: float) -> None:
    """One series: a line with a band over a numeric parameter; over categories, points with error
    bars and no line, since nothing lies between two categories."""
    style = _style(index)
    mean, error = _error(rows)
    if numeric:
        ax.plot(x, mean, label=label, linewidth=1.4, markersize=5, markerfacecolor="none", **style)
        ax.fill_between(x, mean - error[0], mean + error[1], alpha=0.15, color=style["color"], linewidth=0)
    else:
        ax.errorbar(x + offset, mean, yerr=error, fmt=style["marker"], color=style["color"], linestyle="none",
                    capsize=3, markersize=5, label=label)


def figure_title(figure: Figure, title: str, *notes: str) -> None:
    """The figure's title, and under it its notes, wrapped to the figure's width."""
    width = int(figure.get_figwidth() * 12)  # characters of a medium-size font per line
    lines = [title, *textwrap.wrap("; ".join(note for note in notes if note), width)]
    figure.suptitle("\n".join(lines), fontsize="medium")


def _interval_words(kinds: Iterable[str]) -> str:
    """The intervals drawn, in words, from the ``interval`` column of the summaries drawn."""
    kinds = set(kinds)
    return interval_note(kinds) if kinds else "95% interval of the mean"


def sweep_outcome_figure(outcome: str, swept: Sequence[str], table: pd.DataFrame, title: str) -> Figure:
    """An outcome against each swept parameter: mean over runs with its 95% interval, a series per level of another.

    A numeric parameter is drawn as lines with bands; a categorical one (a recommender's name) as
    points with error bars, the series dodged a little so that their bars do not hide each other.
    A panel holds at most :data:`MAX_SERIES` series: the levels of the second parameter are spread
    over several panels (one row per swept parameter) when there are more. Panels share the y axis.
    The note under the title names the interval: percentile bootstrap for an outcome with bounds
    (it stays inside them), Student-t otherwise.
    """
    layout = []
    for x_name in swept:
        line_name = next((name for name in swept if name != x_name), None)
        levels = [None] if line_name is None else list(dict.fromkeys(table[line_name]))
        if is_numeric(levels):
            levels.sort()
        layout.append((x_name, line_name, panels_of(levels)))
    columns = max(len(chunks) for _, _, chunks in layout)
    rows = 1 if columns == 1 else len(layout)
    figure = Figure(figsize=(max(7.0, 5.2 * (len(layout) if rows == 1 else columns)), 4.2 * rows + 0.4),
                    layout="constrained")
    grid = figure.subplots(rows, len(layout) if rows == 1 else columns, squeeze=False, sharey=True)
    axes = iter(grid.ravel())
    kinds: set[str] = set()
    for x_name, line_name, chunks in layout:
        by = [x_name] if line_name is None else [line_name, x_name]
        summary = summarize(table, [outcome], by=by)
        kinds.update(summary["interval"])
        x_values = list(dict.fromkeys(table[x_name]))
        numeric = is_numeric(x_values)
        if numeric:
            x_values.sort()
        position = {value: (value if numeric else i) for i, value in enumerate(x_values)}
        row_axes = [next(axes) for _ in range(1 if rows == 1 else columns)]
        for ax, levels in zip(row_axes, chunks, strict=False):
            for index, level in enumerate(levels):
                part = summary if line_name is None else summary[summary[line_name] == level]
                part = part.assign(_x=part[x_name].map(position)).sort_values("_x")
                offset = (index - (len(levels) - 1) / 2) * DODGE
                label = None if line_name is None else point_label({line_name: level})
                _draw_series(ax, part["_x"].to_numpy(dtype=float), part, label, index, numeric, offset)
            if not numeric:
                ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
                ax.set_xlim(-0.5, len(x_values) - 0.5)
            ax.set_xlabel(x_name)
            ax.set_ylabel(f"{outcome} (final-window mean)")
            ax.yaxis.set_tick_params(labelleft=True)
            ax.grid(alpha=0.3)
            if line_name:
                ax.legend(fontsize="small", frameon=False)
        for ax in row_axes[len(chunks):]:
            ax.remove()
    figure_title(figure, f"{title}: {outcome}", "mean over replicates and other parameters",
                 f"bars and bands: {_interval_words(kinds)}")
    return figure


def sweep_timeseries_figure(
    outcome: str, bands: pd.DataFrame, labels: Mapping[Any, str], title: str, note: str | None = None
) -> Figure:
    """An outcome over time per group of runs: mean over the group's runs with a 95% band.

    ``bands`` is :func:`~simsolidarity.analysis.summary.summarize` of a time series by
    ``("group", "step")``; ``labels`` names each group, in the order drawn. At most
    :data:`MAX_SERIES` groups share a panel (more are spread over panels with the same axes), each
    with its own line style, so groups that coincide stay visible. ``note`` is added to the note
    under the title (e.g. that the groups are unpaired).
    """
    rows = bands[bands["outcome"] == outcome]
    chunks = panels_of(list(labels))
    columns = min(len(chunks), 2)
    figure = Figure(figsize=(8 if columns == 1 else 13, 4.4 * math.ceil(len(chunks) / columns) + 0.3),
                    layout="constrained")
    grid = figure.subplots(math.ceil(len(chunks) / columns), columns, squeeze=False, sharex=True, sharey=True)
    for ax, groups in zip(grid.ravel(), chunks, strict=False):
        for index, group in enumerate(groups):
            band = rows[rows["group"] == group]
            steps = band["step"].to_numpy()
            style = _style(index)
            ax.plot(steps, band["mean"], label=labels[group], linewidth=1.3, color=style["color"],
                    linestyle=style["linestyle"])
            ax.fill_between(steps, band["low"], band["high"], alpha=0.15, color=style["color"], linewidth=0)
        ax.set_xlabel("step")
        ax.set_ylabel(outcome)
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.yaxis.set_tick_params(labelleft=True)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="x-small", frameon=False)
    for ax in grid.ravel()[len(chunks):]:
        ax.remove()
    figure_title(figure, f"{title}: {outcome} over time",
                 f"bands: {_interval_words(rows['interval'])} over replicates", note or "")
    return figure


def frontier_figure(experiment, table: pd.DataFrame) -> Figure:
    """The trade-off between two outcomes: each point's mean with 95% intervals on both axes.

    The line joins the points that no other point beats on both outcomes at once (lower x and
    higher y, e.g. less polarization and more belonging). Each point has its own colour and
    marker, so that points of equal means stay apart in the legend.
    """
    x_name, y_name = experiment.frontier
    figure = Figure(figsize=(7.5, 5), layout="constrained")
    ax = figure.subplots()
    summary = summarize(table, [x_name, y_name])
    indexed = summary.set_index(["outcome", "point"])
    means = []
    for index, point in enumerate(sorted(indexed.loc[x_name].index)):
        (x,), x_error = _error(indexed.loc[[(x_name, point)]])
        (y,), y_error = _error(indexed.loc[[(y_name, point)]])
        ax.errorbar(x, y, xerr=x_error, yerr=y_error, fmt=SERIES_MARKERS[index % len(SERIES_MARKERS)],
                    color=f"C{index % 10}", capsize=2, label=point_label(experiment.points[point]))
        means.append((x, y))
    efficient = sorted(
        (x, y) for x, y in means if not any(ox <= x and oy >= y and (ox, oy) != (x, y) for ox, oy in means)
    )
    if efficient:
        ax.plot(*zip(*efficient, strict=True), color="black", linewidth=1, linestyle="--", label="frontier")
    ax.set_xlabel(f"{x_name} (lower is better)")
    ax.set_ylabel(f"{y_name} (higher is better)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="x-small", frameon=False)
    figure_title(figure, f"{experiment.name}: {y_name} against {x_name}", "mean per point",
                 f"bars: {_interval_words(summary['interval'])}")
    return figure


def save_sweep_plots(folder: Path, experiment, sweep: Sweep) -> list[Path]:
    """Draw a sweep's plots into ``folder``: ``<outcome>.png``, ``frontier.png``, ``<outcome>_timeseries.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    table = sweep.summary
    written: list[Path] = []
    if table.empty:
        return written
    if "outcomes" in experiment.plots:
        for outcome in experiment.outcomes:
            path = folder / f"{outcome}.png"
            sweep_outcome_figure(outcome, experiment.swept, table, experiment.name).savefig(path, dpi=100)
            written.append(path)
    if "frontier" in experiment.plots and experiment.frontier:
        path = folder / "frontier.png"
        frontier_figure(experiment, table).savefig(path, dpi=100)
        written.append(path)
    if "timeseries" in experiment.plots and len(experiment.points) <= MAX_TIMESERIES_POINTS:
        series = sweep.timeseries(parameters="none").rename(columns={"point": "group"})
        labels = {point: point_label(values) for point, values in enumerate(experiment.points)
                  if point in set(series["group"])}
        written += save_band_plots(folder, experiment.outcomes, series, labels, experiment.name)
    return written


def save_band_plots(
    folder: Path, outcomes: Sequence[str], series: pd.DataFrame, labels: Mapping[Any, str], title: str,
    note: str | None = None,
) -> list[Path]:
    """``<outcome>_timeseries.png`` for each outcome: one mean line with a 95% band per group of runs.

    ``series`` is a tidy time series with a ``group`` column (one row per run and step); ``labels``
    names the groups to draw, in order; ``note`` is added under each figure's title.
    """
    bands = summarize(series, outcomes, by=("group", "step"))
    written = []
    for outcome in outcomes:
        path = folder / f"{outcome}_timeseries.png"
        sweep_timeseries_figure(outcome, bands, labels, title, note).savefig(path, dpi=100)
        written.append(path)
    return written
