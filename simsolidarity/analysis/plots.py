"""Plots of a run: each a named figure drawn from the run's time series with matplotlib.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never pyplot,
so drawing works without a display and without global state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simsolidarity.analysis.summary import summarize
from simsolidarity.model.outcomes import OPINIONS_PLOT, OUTCOMES, plot_outcomes, run_plot_names
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
        ax.hist(opinions, bins=bins, color=color, alpha=0.55, label=f"step {step}")
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
    "polarization": LineAxes("polarization", "index (0-1)", (5 / 9, "uniform (BC = 5/9)")),
    "echo_chamber": LineAxes("echo chambers", "correlation / opinion std"),
    "support": LineAxes("support for people in need", "support (0-1, depth-weighted)"),
    "belonging": LineAxes("belonging", "belonging (0-1)"),
    "structure": LineAxes("group structure", "share / Gini (0-1)"),
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
    """Draw each named plot into ``folder/<name>.png``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = folder / f"{name}.png"
        render(name, series, snapshots, scenario).savefig(path, dpi=110)
        written.append(path)
    return written


# --- sweeps -----------------------------------------------------------------------------------------

#: More parameter points than this are not drawn as separate time series (the figure would be unreadable).
MAX_TIMESERIES_POINTS = 12


def _is_numeric(values: list) -> bool:
    return all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values)


def point_label(values: Mapping[str, object]) -> str:
    """A parameter point in words: ``recommender=similarity, homophily=0.8``."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def _band(ax, x: np.ndarray, rows: pd.DataFrame, label: str | None, numeric: bool) -> None:
    """Means with their 95% confidence interval, shaded (numeric x) or as error bars."""
    mean, low, high = (rows[name].to_numpy(dtype=float) for name in ("mean", "low", "high"))
    line = ax.plot(x, mean, marker="o", markersize=3, label=label)[0]
    if numeric:
        ax.fill_between(x, low, high, alpha=0.2, color=line.get_color(), linewidth=0)
    else:
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="none", color=line.get_color(), capsize=3)


def sweep_outcome_figure(outcome: str, swept: Sequence[str], table: pd.DataFrame, title: str) -> Figure:
    """An outcome against each swept parameter: mean over runs with a 95% CI, one line per value of a second one."""
    figure = Figure(figsize=(max(7.0, 5.2 * len(swept)), 4.2), layout="constrained")
    axes = figure.subplots(1, len(swept), squeeze=False)[0]
    for ax, x_name in zip(axes, swept, strict=True):
        line_name = next((name for name in swept if name != x_name), None)
        by = [x_name] if line_name is None else [line_name, x_name]
        summary = summarize(table, [outcome], by=by)
        x_values = list(dict.fromkeys(table[x_name]))
        numeric = _is_numeric(x_values)
        if numeric:
            x_values.sort()
        position = {value: (value if numeric else i) for i, value in enumerate(x_values)}
        levels = [None] if line_name is None else list(dict.fromkeys(table[line_name]))
        for level in levels:
            rows = summary if line_name is None else summary[summary[line_name] == level]
            rows = rows.assign(_x=rows[x_name].map(position)).sort_values("_x")
            _band(ax, rows["_x"].to_numpy(dtype=float), rows, point_label({line_name: level}) if line_name else None,
                  numeric)
        if not numeric:
            ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
        ax.set_xlabel(x_name)
        ax.set_ylabel(f"{outcome} (final-window mean)")
        ax.grid(alpha=0.3)
        if line_name:
            ax.legend(fontsize="small", frameon=False)
    figure.suptitle(f"{title}: {outcome} (mean, 95% CI over replicates and other parameters)", fontsize="medium")
    return figure


def sweep_timeseries_figure(outcome: str, bands: pd.DataFrame, labels: Mapping[Any, str], title: str) -> Figure:
    """An outcome over time per group of runs: mean over the group's runs with a 95% band.

    ``bands`` is :func:`~simsolidarity.analysis.summary.summarize` of a time series by
    ``("group", "step")``; ``labels`` names each group, in the order drawn.
    """
    figure = Figure(figsize=(8, 4.4), layout="constrained")
    ax = figure.subplots()
    if len(labels) > 10:  # the default cycle repeats after ten colours
        ax.set_prop_cycle(color=matplotlib.colormaps["tab20"].colors)
    rows = bands[bands["outcome"] == outcome]
    for group, label in labels.items():
        band = rows[rows["group"] == group]
        steps = band["step"].to_numpy()
        line = ax.plot(steps, band["mean"], label=label, linewidth=1.3)[0]
        ax.fill_between(steps, band["low"], band["high"], alpha=0.18, color=line.get_color(), linewidth=0)
    ax.set_xlabel("step")
    ax.set_ylabel(outcome)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="x-small", frameon=False)
    figure.suptitle(f"{title}: {outcome} over time (mean, 95% band over replicates)")
    return figure


def frontier_figure(experiment, table: pd.DataFrame) -> Figure:
    """The trade-off between two outcomes: each point's mean with 95% CIs on both axes.

    The line joins the points that no other point beats on both outcomes at once (lower x and
    higher y, e.g. less polarization and more belonging).
    """
    x_name, y_name = experiment.frontier
    figure = Figure(figsize=(7.5, 5), layout="constrained")
    ax = figure.subplots()
    summary = summarize(table, [x_name, y_name]).set_index(["outcome", "point"])
    means = []
    for point in sorted(summary.loc[x_name].index):
        x, x_low, x_high = summary.loc[(x_name, point), ["mean", "low", "high"]]
        y, y_low, y_high = summary.loc[(y_name, point), ["mean", "low", "high"]]
        ax.errorbar(x, y, xerr=[[x - x_low], [x_high - x]], yerr=[[y - y_low], [y_high - y]], fmt="o",
                    capsize=2, label=point_label(experiment.points[point]))
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
    figure.suptitle(f"{experiment.name}: {y_name} against {x_name} (mean and 95% CI per point)")
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
    folder: Path, outcomes: Sequence[str], series: pd.DataFrame, labels: Mapping[Any, str], title: str
) -> list[Path]:
    """``<outcome>_timeseries.png`` for each outcome: one mean line with a 95% band per group of runs.

    ``series`` is a tidy time series with a ``group`` column (one row per run and step); ``labels``
    names the groups to draw, in order.
    """
    bands = summarize(series, outcomes, by=("group", "step"))
    written = []
    for outcome in outcomes:
        path = folder / f"{outcome}_timeseries.png"
        sweep_timeseries_figure(outcome, bands, labels, title).savefig(path, dpi=100)
        written.append(path)
    return written
