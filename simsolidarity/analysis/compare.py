"""Comparing results side by side: run folders and sweep folders, as groups of runs.

A run folder (from ``simsolidarity run``) is one group; a sweep folder contributes one group
per parameter point. For each group and outcome, the table gives the mean over its runs of the
final-window summary, with a 95% confidence interval; the plots overlay each group's mean time
series with its band.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.outcomes import OUTCOMES
from simsolidarity.analysis.plots import point_label, save_band_plots
from simsolidarity.running.folders import atomic_folder, check_writable, new_run_folder, read_json, read_timeseries, write_rows
from simsolidarity.running.run import MANIFEST, TIMESERIES
from simsolidarity.analysis.summary import mean_ci
from simsolidarity.running.sweep import EXPERIMENT_FILE, RUNS


@dataclass(frozen=True)
class Group:
    """Runs compared as one: a label and their run folders."""

    label: str
    runs: tuple[Path, ...]

    def summaries(self) -> Iterator[dict[str, float | None]]:
        """Each run's final-window summary of outcomes."""
        for run in self.runs:
            yield read_json(run / MANIFEST)["summary"]

    def tables(self) -> Iterator[dict[str, list]]:
        """Each run's time series, read one at a time."""
        for run in self.runs:
            yield read_timeseries(run / TIMESERIES)


def groups_of(folder: Path) -> list[Group]:
    """The groups a run or sweep folder contributes."""
    if (folder / EXPERIMENT_FILE).exists():
        experiment = read_json(folder / EXPERIMENT_FILE)
        by_point: dict[int, list[Path]] = {}
        for run in sorted((folder / RUNS).glob("run-*")):
            if (run / MANIFEST).exists():
                by_point.setdefault(read_json(run / MANIFEST)["point"], []).append(run)
        if not by_point:
            raise SimsolidarityError(f"{folder}: a sweep folder with no complete run yet; resume the sweep "
                                     "(simsolidarity sweep EXPERIMENT --out FOLDER) or leave the folder out")
        return [
            Group(f"{experiment['name']}: {point_label(values)}", tuple(by_point[point]))
            for point, values in enumerate(experiment["points"])
            if point in by_point
        ]
    if (folder / MANIFEST).exists() and (folder / TIMESERIES).exists():
        return [Group(f"{read_json(folder / MANIFEST)['scenario']['name']} ({folder.name})", (folder,))]
    raise SimsolidarityError(f"{folder}: not a run folder (manifest.json, timeseries.csv) or a sweep folder")


def compare(folders: list[Path], out: Path) -> tuple[list[dict], Path]:
    """Compare the folders; write ``comparison.csv`` and overlaid plots into ``out``; returns the table rows.

    Raises :class:`SimsolidarityError` before any work for an ``out`` that exists or cannot be
    written, and for a folder that is neither a run folder nor a sweep folder with a complete run.
    """
    if out.exists() or out.is_symlink():
        raise SimsolidarityError(f"--out {out}: already exists; choose a new folder")
    check_writable(out)
    groups = [group for folder in folders for group in groups_of(folder)]
    if not groups:
        raise SimsolidarityError("nothing to compare: no complete runs in the folders given")
    available = [set(next(group.summaries())) for group in groups]
    outcomes = tuple(name for name in OUTCOMES if all(name in keys for keys in available))
    if not outcomes:
        raise SimsolidarityError("the folders share no outcome to compare")
    rows = []
    for group in groups:
        summaries = list(group.summaries())
        for outcome in outcomes:
            mean, low, high, n = mean_ci(s[outcome] for s in summaries)
            rows.append({"group": group.label, "outcome": outcome, "runs": n, "mean": mean, "low": low, "high": high})
    with atomic_folder(out) as temporary:
        write_rows(temporary / "comparison.csv", rows)
        plots = temporary / "plots"
        plots.mkdir()
        save_band_plots(plots, outcomes, [(g.label, g.tables()) for g in groups], "comparison")
    return rows, out


def default_compare_folder(results_root: Path) -> Path:
    """A new ``results_root/compare/<timestamp>`` folder."""
    return new_run_folder(results_root, "compare")
