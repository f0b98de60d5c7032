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
from matplotlib.figure import Figure

from simsolidarity.running.experiment import MORRIS_LEVELS, Experiment

#: Index names of each method: (main index, its confidence half-width, second index, its half-width).
INDICES = {"morris": ("mu_star", "mu_star_conf", "sigma", None), "sobol": ("ST", "ST_conf", "S1", "S1_conf")}


def point_means(experiment: Experiment, table: Mapping[str, list], outcome: str) -> np.ndarray | None:
    """The outcome's mean over replicates at each point, or ``None`` if any point is missing or nan."""
    values: dict[int, list[float]] = {}
    for point, value in zip(table["point"], table[outcome], strict=True):
        values.setdefault(point, []).append(value)
    if len(values) != len(experiment.points):
        return None
    means = np.array([np.mean(values[p]) for p in range(len(experiment.points))], dtype=float)
    return means if np.all(np.isfinite(means)) else None


def analyze(experiment: Experiment, table: Mapping[str, list]) -> list[dict[str, Any]]:
    """Sensitivity indices of every outcome to every swept parameter, as tidy rows."""
    from SALib.analyze import morris, sobol

    problem = experiment.problem()
    design = experiment.design()
    rows = []
    for outcome in experiment.outcomes:
        response = point_means(experiment, table, outcome)
        if response is None:
            continue
        if experiment.sampler == "morris":
            result = morris.analyze(problem, design, response, num_levels=MORRIS_LEVELS, seed=experiment.seed)
        else:
            result = sobol.analyze(problem, response, calc_second_order=False, seed=experiment.seed)
        for i, parameter in enumerate(problem["names"]):
            row = {"outcome": outcome, "parameter": parameter}
            for index in INDICES[experiment.sampler]:
                if index is not None:
                    row[index] = float(np.asarray(result[index])[i])
            rows.append(row)
    return rows


def sensitivity_figure(rows: list[dict[str, Any]], method: str, title: str) -> Figure:
    """One panel per outcome: horizontal bars of each parameter's main index, with its confidence interval."""
    main, main_conf, second, second_conf = INDICES[method]
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
    method_name = "Morris screening" if method == "morris" else "Sobol indices"
    figure.suptitle(f"{title}: {method_name} ({main} with 95% CI, and {second})")
    return figure


def write_sensitivity(folder: Path, experiment: Experiment, table: Mapping[str, list], plots: bool) -> list[dict]:
    """Write ``sensitivity.csv`` (and ``plots/sensitivity.png``) for a morris or sobol sweep; returns the rows."""
    from simsolidarity.running.folders import write_rows

    rows = analyze(experiment, table)
    if rows:
        write_rows(folder / "sensitivity.csv", rows)
        if plots:
            (folder / "plots").mkdir(exist_ok=True)
            sensitivity_figure(rows, experiment.sampler, experiment.name).savefig(
                folder / "plots" / "sensitivity.png", dpi=100
            )
    return rows
