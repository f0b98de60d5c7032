"""Global sensitivity analysis of a ``morris`` or ``sobol`` sweep, with SALib.

Each outcome's response at a parameter point is its final-window summary averaged over the
point's replicates. Morris screening gives, per parameter, ``mu_star`` (mean absolute elementary
effect: overall influence) and ``sigma`` (spread of the effects: interactions or non-linearity);
Sobol analysis gives first-order (``S1``) and total (``ST``) indices with their 95% confidence
half-widths. Outcomes that are undefined (nan) at some point are left out of the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simsolidarity.analysis.summary import summarize
from simsolidarity.running.experiment import Experiment
from simsolidarity.running.folders import PLOTS, SENSITIVITY, write_table
from simsolidarity.running.samplers import SAMPLERS, SamplerView

#: Index names of each sampler with an analysis: (main index, its confidence half-width, second index,
#: its half-width), as its :class:`~simsolidarity.running.samplers.Analysis` names them.
INDICES: Mapping[str, tuple[str, str, str, str | None]] = SamplerView(
    lambda sampler: sampler.analysis.indices if sampler.analysis is not None else None
)


def point_means(experiment: Experiment, table: pd.DataFrame, outcome: str) -> np.ndarray | None:
    """The outcome's mean over replicates at each point, or ``None`` if any point is missing or any run nan."""
    if table[outcome].isna().any():
        return None
    means = summarize(table, [outcome]).sort_values("point")
    if len(means) != len(experiment.points):
        return None
    return means["mean"].to_numpy(dtype=float)


def analyze(experiment: Experiment, table: pd.DataFrame) -> list[dict[str, Any]]:
    """Sensitivity indices of every outcome to every swept parameter, as tidy rows, by the sampler's analysis.

    Empty for a sampler without an analysis.
    """
    analysis = SAMPLERS[experiment.sampler].analysis
    if analysis is None:
        return []
    problem = experiment.problem()
    design = experiment.design()
    rows = []
    for outcome in experiment.outcomes:
        response = point_means(experiment, table, outcome)
        if response is None:
            continue
        result = analysis.analyze(problem, design, response, experiment.seed)
        for i, parameter in enumerate(problem["names"]):
            row = {"outcome": outcome, "parameter": parameter}
            for index in analysis.indices:
                if index is not None:
                    row[index] = float(np.asarray(result[index])[i])
            rows.append(row)
    return rows


def sensitivity_figure(rows: list[dict[str, Any]], sampler: str, title: str) -> Figure:
    """One panel per outcome: horizontal bars of each parameter's main index, with its confidence interval."""
    analysis = SAMPLERS[sampler].analysis
    main, main_conf, second, second_conf = analysis.indices
    outcomes = list(dict.fromkeys(row["outcome"] for row in rows))
    columns = min(3, len(outcomes))
    lines = -(-len(outcomes) // columns)
    figure = Figure(figsize=(4.6 * columns, 0.5 + 2.6 * lines), layout="constrained")
    axes = figure.subplots(lines, columns, squeeze=False).ravel()
    for ax, outcome in zip(axes, outcomes, strict=False):
        picked = [row for row in rows if row["outcome"] == outcome]
        names = [row["parameter"] for row in picked]
        y = np.arange(len(picked))
        ax.barh(y - 0.2, [r[main] for r in picked], height=0.4, xerr=[r[main_conf] for r in picked],
                label=main, color="tab:blue", capsize=2)
        ax.barh(y + 0.2, [r[second] for r in picked], height=0.4,
                xerr=[r[second_conf] for r in picked] if second_conf else None, label=second, color="tab:orange",
                capsize=2)
        ax.set_yticks(y, names, fontsize="small")
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(outcomes):]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small", frameon=False)
    figure.suptitle(f"{title}: {analysis.method} ({main} with 95% CI, and {second})")
    return figure


def write_sensitivity(folder: Path, experiment: Experiment, table: pd.DataFrame, plots: bool) -> list[dict]:
    """Write ``sensitivity.csv`` (and ``plots/sensitivity.png``) for a morris or sobol sweep; returns the rows."""
    rows = analyze(experiment, table)
    if rows:
        write_table(folder / SENSITIVITY, rows)
        if plots:
            (folder / PLOTS).mkdir(exist_ok=True)
            sensitivity_figure(rows, experiment.sampler, experiment.name).savefig(folder / PLOTS / "sensitivity.png",
                                                                                 dpi=100)
    return rows
