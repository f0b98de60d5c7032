"""Plots of a run: each a named figure drawn from the run's time series with matplotlib.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never pyplot,
so drawing works without a display and without global state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from simsolidarity.analysis.summary import bands_over_runs, mean_ci

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


def _plot(name: str, title: str, draw, outcomes: tuple[str, ...] = ()) -> Plot:
    return Plot(name, title, outcomes, draw)


_POLARIZATION = {
    "esteban_ray": "Esteban-Ray polarization",
    "opinion_variance": "opinion variance",
    "bimodality": "bimodality coefficient",
}
_ECHO = {"echo_chamber_index": "echo-chamber index", "exposure_diversity": "exposure diversity (std)"}
_SUPPORT = {
    "support_received": "support received",
    "support_online": "through online ties",
    "support_offline": "through face-to-face ties",
    "support_isolated": "received, most isolated quartile",
    "unmet_need_share": "share of needs unmet",
}
_BELONGING = {"belonging": "everyone", "belonging_isolated": "most isolated quartile"}
_STRUCTURE = {"group_size_gini": "Gini of group sizes", "share_ties_online": "share of contacts online"}

#: The plots a run can draw, by name.
PLOTS: dict[str, Plot] = {
    p.name: p
    for p in [
        _plot("polarization", "polarization", _lines("index (0-1)", _POLARIZATION, (5 / 9, "uniform (BC = 5/9)")),
              tuple(_POLARIZATION)),
        _plot("echo_chamber", "echo chambers", _lines("correlation / opinion std", _ECHO), tuple(_ECHO)),
        _plot("support", "support for people in need", _lines("support (0-1, depth-weighted)", _SUPPORT),
              tuple(_SUPPORT)),
        _plot("belonging", "belonging", _lines("belonging (0-1)", _BELONGING), tuple(_BELONGING)),
        _plot("structure", "group structure", _lines("share / Gini (0-1)", _STRUCTURE), tuple(_STRUCTURE)),
        _plot("opinions", "opinion distribution at start and end", _opinion_histograms),
    ]
}


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
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def point_label(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def _band(ax, rows: list[tuple], label: str | None, numeric: bool) -> None:
    """Means with their 95% confidence interval, shaded (numeric x) or as error bars: rows of (x, mean, low, high)."""
    x, mean, low, high = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    line = ax.plot(x, mean, marker="o", markersize=3, label=label)[0]
    if numeric:
        ax.fill_between(x, low, high, alpha=0.2, color=line.get_color(), linewidth=0)
    else:
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="none", color=line.get_color(), capsize=3)


def sweep_outcome_figure(outcome: str, swept: tuple[str, ...], table: Mapping[str, list], title: str) -> Figure:
    """An outcome against each swept parameter: mean over runs with a 95% CI, one line per value of a second one."""
    figure = Figure(figsize=(max(7.0, 5.2 * len(swept)), 4.2), layout="constrained")
    axes = figure.subplots(1, len(swept), squeeze=False)[0]
    for ax, x_name in zip(axes, swept, strict=True):
        line_name = next((name for name in swept if name != x_name), None)
        levels = table[line_name] if line_name else [None] * len(table[x_name])
        groups: dict[tuple, list[float]] = {}
        for value, x, level in zip(table[outcome], table[x_name], levels, strict=True):
            groups.setdefault((level, x), []).append(value)
        x_values = list(dict.fromkeys(table[x_name]))
        numeric = _is_numeric(x_values)
        if numeric:
            x_values.sort()
        for level in dict.fromkeys(levels):
            rows = [
                (x if numeric else position, *mean_ci(groups[(level, x)])[:3])
                for position, x in enumerate(x_values)
                if (level, x) in groups
            ]
            _band(ax, rows, point_label({line_name: level}) if line_name else None, numeric)
        if not numeric:
            ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
        ax.set_xlabel(x_name)
        ax.set_ylabel(f"{outcome} (final-window mean)")
        ax.grid(alpha=0.3)
        if line_name:
            ax.legend(fontsize="small", frameon=False)
    figure.suptitle(f"{title}: {outcome} (mean, 95% CI over replicates and other parameters)", fontsize="medium")
    return figure


def sweep_timeseries_figure(outcome: str, points: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                            title: str) -> Figure:
    """An outcome over time per parameter point: mean over replicates with a 95% band.

    ``points`` holds ``(label, steps, mean, low, high)`` for each point.
    """
    figure = Figure(figsize=(8, 4.4), layout="constrained")
    ax = figure.subplots()
    if len(points) > 10:  # the default cycle repeats after ten colours
        ax.set_prop_cycle(color=matplotlib.colormaps["tab20"].colors)
    for label, steps, mean, low, high in points:
        line = ax.plot(steps, mean, label=label, linewidth=1.3)[0]
        ax.fill_between(steps, low, high, alpha=0.18, color=line.get_color(), linewidth=0)
    ax.set_xlabel("step")
    ax.set_ylabel(outcome)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="x-small", frameon=False)
    figure.suptitle(f"{title}: {outcome} over time (mean, 95% band over replicates)")
    return figure


def frontier_figure(experiment, table: Mapping[str, list]) -> Figure:
    """The trade-off between two outcomes: each point's mean with 95% CIs on both axes.

    The line joins the points that no other point beats on both outcomes at once (lower x and
    higher y, e.g. less polarization and more belonging).
    """
    x_name, y_name = experiment.frontier
    figure = Figure(figsize=(7.5, 5), layout="constrained")
    ax = figure.subplots()
    means = []
    for point, values in enumerate(experiment.points):
        picked = [i for i, p in enumerate(table["point"]) if p == point]
        if not picked:
            continue
        x, x_low, x_high, _ = mean_ci(table[x_name][i] for i in picked)
        y, y_low, y_high, _ = mean_ci(table[y_name][i] for i in picked)
        ax.errorbar(x, y, xerr=[[x - x_low], [x_high - x]], yerr=[[y - y_low], [y_high - y]], fmt="o",
                    capsize=2, label=point_label(values))
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


def save_sweep_plots(folder: Path, experiment, summary_path: Path, run_files) -> list[Path]:
    """Draw a sweep's plots into ``folder``: ``<outcome>.png`` and ``<outcome>_timeseries.png``.

    ``run_files(point)`` yields the time-series files of a point's complete runs; points are read
    one at a time so memory does not grow with the number of runs.
    """
    from simsolidarity.running.folders import read_timeseries

    folder.mkdir(parents=True, exist_ok=True)
    table = read_timeseries(summary_path)
    written = []
    if not table["run"]:
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
        groups = [
            (point_label(values), (read_timeseries(path) for path in run_files(point)))
            for point, values in enumerate(experiment.points)
        ]
        written += save_band_plots(folder, experiment.outcomes, groups, experiment.name)
    return written


def save_band_plots(folder: Path, outcomes: tuple[str, ...], groups, title: str) -> list[Path]:
    """``<outcome>_timeseries.png`` for each outcome: one mean line with a 95% band per group of runs.

    ``groups`` holds ``(label, tables)`` pairs; each group's tables are read when it is reached.
    """
    lines: dict[str, list] = {outcome: [] for outcome in outcomes}
    for label, tables in groups:
        banded = bands_over_runs(tables, outcomes)
        if banded is None:
            continue
        steps, bands = banded
        for outcome in outcomes:
            lines[outcome].append((label, steps, *bands[outcome]))
    written = []
    for outcome, points in lines.items():
        path = folder / f"{outcome}_timeseries.png"
        sweep_timeseries_figure(outcome, points, title).savefig(path, dpi=100)
        written.append(path)
    return written
