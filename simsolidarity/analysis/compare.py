"""Comparing results side by side: run folders and sweep folders, as groups of runs.

A run folder (from ``simsolidarity run``) is one group; a sweep folder contributes one group
per parameter point. For each group and outcome, the table gives the mean over its runs of the
final-window summary, with a 95% confidence interval; the plots overlay each group's mean time
series with its band.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simsolidarity.analysis.plots import point_label, save_band_plots
from simsolidarity.analysis.summary import summarize
from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.outcomes import OUTCOMES
from simsolidarity.running.folders import COMPARISON, PLOTS, atomic_folder, check_writable, new_run_folder, write_table
from simsolidarity.running.results import Run, Sweep, load


def _groups(results: list[Run | Sweep]) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, str]]:
    """Every run of the results, labelled by group: the runs' summaries, their time series and the labels."""
    summaries, series, labels = [], [], {}
    for result in results:
        if isinstance(result, Run):
            group = len(labels)
            labels[group] = f"{result.name} ({result.folder.name if result.folder else 'in memory'})"
            summaries.append(pd.DataFrame([result.summary]).assign(group=group))
            series.append(result.timeseries.assign(group=group))
            continue
        first = len(labels)
        points = sorted(set(result.summary["point"]))
        group_of = {point: first + i for i, point in enumerate(points)}
        labels.update({group_of[p]: f"{result.name}: {point_label(result.experiment['points'][p])}" for p in points})
        summaries.append(result.summary.assign(group=result.summary["point"].map(group_of)))
        series.append(result.timeseries(parameters="none").pipe(lambda t: t.assign(group=t["point"].map(group_of))))
    return pd.concat(summaries, ignore_index=True), pd.concat(series, ignore_index=True), labels


def compare(folders: list[Path], out: Path) -> tuple[pd.DataFrame, Path]:
    """Compare the folders; write ``comparison.csv`` and overlaid plots into ``out``.

    Returns the table (one row per group and outcome: ``group`` label, ``outcome``, ``mean``,
    ``low``, ``high``, ``n`` runs) and the folder. Raises :class:`SimsolidarityError` before any
    work for an ``out`` that exists or cannot be written, and for a folder that is neither a run
    folder nor a sweep folder with a complete run.
    """
    if out.exists() or out.is_symlink():
        raise SimsolidarityError(f"--out {out}: already exists; choose a new folder")
    check_writable(out)
    results = [load(folder) for folder in folders]
    for result in results:
        if isinstance(result, Sweep) and result.summary.empty:
            raise SimsolidarityError(f"{result.folder}: a sweep folder with no complete run yet; resume the sweep "
                                     "(simsolidarity sweep EXPERIMENT --out FOLDER) or leave the folder out")
    recorded = [set(result.summary) if isinstance(result, Run) else set(result.outcomes) for result in results]
    outcomes = [name for name in OUTCOMES if all(name in names for names in recorded)]
    if not outcomes:
        raise SimsolidarityError("the folders share no outcome to compare")
    summaries, series, labels = _groups(results)
    table = summarize(summaries, outcomes, by=("group",))
    table["group"] = table["group"].map(labels)
    with atomic_folder(out) as temporary:
        write_table(temporary / COMPARISON, table)
        (temporary / PLOTS).mkdir()
        save_band_plots(temporary / PLOTS, outcomes, series, labels, "comparison")
    return table, out


def default_compare_folder(results_root: Path) -> Path:
    """A new ``results_root/compare/<timestamp>`` folder."""
    return new_run_folder(results_root, "compare")
