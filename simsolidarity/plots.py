"""Plots of a run: each a named figure drawn from the run's time series with matplotlib.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never pyplot,
so drawing works without a display and without global state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

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
