"""Comparing results side by side: run folders and sweep folders, as groups of runs.

A run folder (from ``simsolidarity run``) is one group; a sweep folder contributes one group
per parameter point. For each group and outcome, the table gives the mean over its runs of the
final-window summary, with a 95% confidence interval; the plots overlay each group's mean time
series with its band.

A comparison must not mislead. Runs of different lengths (steps) or averaged over different
final windows measure different things: such folders are refused unless ``allow_mismatch`` is
given, and then the comparison says so. Groups that ran on different seeds, or that differ in
model parameters other than those a compared sweep varies, are not a paired comparison: the
notes, the ``paired`` column of ``comparison.csv`` and the plots say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simsolidarity.analysis.plots import point_label, save_band_plots
from simsolidarity.analysis.summary import summarize
from simsolidarity.errors import SimsolidarityError
from simsolidarity.log import get_logger
from simsolidarity.model.outcomes import OUTCOMES
from simsolidarity.running.folders import COMPARISON, PLOTS, atomic_folder, check_writable, new_run_folder, write_table
from simsolidarity.running.results import Run, Sweep, load

log = get_logger(__name__)

#: The columns of ``comparison.csv``: those of :func:`~simsolidarity.analysis.summary.summarize` by
#: group, and ``paired``.
COMPARISON_COLUMNS = ("group", "outcome", "mean", "low", "high", "n", "interval", "paired")
#: Most values listed in one note (seeds, parameter values, groups) before it says how many more.
NOTE_ITEMS = 4


@dataclass(frozen=True)
class Group:
    """A group of runs being compared: a run folder, or one parameter point of a sweep folder.

    Attributes:
        label: the group in words: the scenario's name and folder, or the experiment's name and point.
        folder: the folder the group comes from, as given.
        seeds: the seeds of the group's runs.
        parameters: every model parameter of the group's runs.
        steps: the steps each run ran.
        final_window: the steps at the end of each run averaged into its summary.
    """

    label: str
    folder: str
    seeds: frozenset[int]
    parameters: dict[str, Any]
    steps: int
    final_window: int


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` wrote: the table, the folder, and what a reader must know to read them.

    Attributes:
        table: one row per group and outcome: ``group`` (label), ``outcome``, ``mean``, ``low``,
            ``high``, ``n`` runs, ``interval`` (``bootstrap`` or ``t``), ``paired``; as
            ``comparison.csv``.
        folder: the folder written (``comparison.csv`` and ``plots/``).
        paired: whether every group ran on the same seeds and the groups differ only in the
            parameters the compared sweeps vary: then a difference between groups is not the noise
            between seeds, nor the effect of a parameter the labels do not show.
        notes: each thing that makes the comparison other than paired and of equal runs, in words.
    """

    table: pd.DataFrame
    folder: Path
    paired: bool
    notes: tuple[str, ...]


def _listed(items: Iterable[str]) -> str:
    """At most :data:`NOTE_ITEMS` of ``items``, comma-separated, then how many more."""
    items = list(items)
    more = len(items) - NOTE_ITEMS
    return ", ".join(items[:NOTE_ITEMS]) + (f" and {more} more" if more > 0 else "")


def _groups(results: list[Run | Sweep], folders: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame, list[Group]]:
    """Every run of the results, numbered by group: the runs' summaries, their time series and the groups."""
    summaries, series, groups = [], [], []
    for result, folder in zip(results, folders, strict=True):
        if isinstance(result, Run):
            number = len(groups)
            groups.append(Group(f"{result.name} ({folder.name})", str(folder), frozenset([result.seed]),
                                dict(result.parameters), result.manifest["steps"], result.manifest["final_window"]))
            summaries.append(pd.DataFrame([result.summary]).assign(group=number))
            series.append(result.timeseries.assign(group=number))
            continue
        experiment = result.experiment
        points = sorted(set(result.summary["point"]))
        number_of = {point: len(groups) + i for i, point in enumerate(points)}
        for point in points:
            seeds = result.summary.loc[result.summary["point"] == point, "seed"]
            groups.append(Group(f"{result.name}: {point_label(experiment['points'][point])}", str(folder),
                                frozenset(int(seed) for seed in seeds),
                                {**experiment["scenario"]["model"], **experiment["points"][point]},
                                experiment["scenario"]["steps"], experiment["final_window"]))
        summaries.append(result.summary.assign(group=result.summary["point"].map(number_of)))
        series.append(result.timeseries(parameters="none").pipe(lambda t: t.assign(group=t["point"].map(number_of))))
    return pd.concat(summaries, ignore_index=True), pd.concat(series, ignore_index=True), groups


def length_mismatch(groups: list[Group]) -> str | None:
    """What differs in the length of the runs (steps, final window) between the folders, or ``None``.

    Names each value with the folders that have it: ``steps: 3 in a, b; 4 in s``.
    """
    differences = []
    for what, value in (("steps", lambda g: g.steps), ("final window", lambda g: g.final_window)):
        folders: dict[int, list[str]] = {}
        for group in groups:
            names = folders.setdefault(value(group), [])
            if group.folder not in names:
                names.append(group.folder)
        if len(folders) > 1:
            differences.append(f"{what}: " + "; ".join(f"{v} in {', '.join(names)}" for v, names in folders.items()))
    return " and ".join(differences) or None


def pairing_notes(groups: list[Group], swept: Iterable[str]) -> dict[str, str]:
    """Why the groups are not a paired comparison, each reason in a few words (for a plot) and in full.

    The reasons: the groups ran on different seeds, or they differ in parameters other than
    ``swept``, those the compared sweeps vary (they do not share a base scenario). Empty when the
    comparison is paired.
    """
    notes = {}
    seed_sets = list(dict.fromkeys(group.seeds for group in groups))
    if len(seed_sets) > 1:
        described = []
        for seeds in seed_sets[:NOTE_ITEMS]:
            who = _listed(group.label for group in groups if group.seeds == seeds)
            described.append(f"{'seed' if len(seeds) == 1 else 'seeds'} {_listed(map(str, sorted(seeds)))} in {who}")
        more = "; ..." if len(seed_sets) > NOTE_ITEMS else ""
        notes["different seeds"] = (f"unpaired: the groups ran on different seeds ({'; '.join(described)}{more}), "
                                    "so their differences include the noise between seeds")
    varied = set(swept)
    names = dict.fromkeys(name for group in groups for name in group.parameters if name not in varied)
    differing = {}
    for name in names:
        values = list(dict.fromkeys(repr(group.parameters.get(name)) for group in groups))
        if len(values) > 1:
            differing[name] = values
    if differing:
        listed = _listed(f"{name} ({', '.join(values)})" for name, values in differing.items())
        notes[f"{_listed(differing)} differ"] = ("unpaired: the groups differ in parameters that no compared "
                                                 f"sweep varies: {listed}")
    return notes


def compare(folders: list[Path], out: Path, *, allow_mismatch: bool = False) -> Comparison:
    """Compare the folders; write ``comparison.csv`` and overlaid plots into ``out``.

    Args:
        folders: run folders and sweep folders, in the order their groups are listed.
        out: the folder to write; it must not exist.
        allow_mismatch: compare runs of different lengths (steps or final window) anyway, with a
            note that says so; by default they are refused.

    Returns:
        A :class:`Comparison`: the table (one row per group and outcome), the folder written,
        whether the comparison is paired, and its notes.

    Raises:
        SimsolidarityError: before any work, for an ``out`` that exists or cannot be written, a
            folder that is neither a run folder nor a sweep folder with a complete run, folders
            that share no outcome, and, without ``allow_mismatch``, runs of different steps or
            final windows (naming which folder has which).
    """
    if out.exists() or out.is_symlink():
        raise SimsolidarityError(f"--out {out}: already exists; choose a new folder")
    check_writable(out)
    folders = [Path(folder) for folder in folders]
    results = [load(folder) for folder in folders]
    for result in results:
        if isinstance(result, Sweep) and result.summary.empty:
            raise SimsolidarityError(f"{result.folder}: a sweep folder with no complete run yet; resume the sweep "
                                     "(simsolidarity sweep EXPERIMENT --out FOLDER) or leave the folder out")
    recorded = [set(result.summary) if isinstance(result, Run) else set(result.outcomes) for result in results]
    outcomes = [name for name in OUTCOMES if all(name in names for names in recorded)]
    if not outcomes:
        raise SimsolidarityError("the folders share no outcome to compare")
    summaries, series, groups = _groups(results, folders)
    mismatch = length_mismatch(groups)
    if mismatch and not allow_mismatch:
        raise SimsolidarityError(f"the runs are not of equal length ({mismatch}), so their outcomes are not "
                                 "comparable; compare runs of equal steps and final window, or pass "
                                 "--allow-mismatch (allow_mismatch=True) to compare them anyway")
    swept = {name for result in results if isinstance(result, Sweep) for name in result.swept}
    unpaired = pairing_notes(groups, swept)
    notes = [*unpaired.values()]
    if mismatch:
        notes.append(f"compared anyway, with runs of different length ({mismatch})")
    log.info("comparing %d groups of runs from %d folders into %s", len(groups), len(folders), out)
    table = summarize(summaries, outcomes, by=("group",))
    table["group"] = table["group"].map({number: group.label for number, group in enumerate(groups)})
    table = table.assign(paired=not unpaired)[list(COMPARISON_COLUMNS)]
    plot_note = "; ".join([*([f"unpaired: {', '.join(unpaired)}"] if unpaired else []),
                           *(["runs of different length"] if mismatch else [])])
    with atomic_folder(out) as temporary:
        write_table(temporary / COMPARISON, table)
        (temporary / PLOTS).mkdir()
        labels = {number: group.label for number, group in enumerate(groups)}
        save_band_plots(temporary / PLOTS, outcomes, series, labels, "comparison", note=plot_note or None)
    log.info("comparison written: %s", out)
    return Comparison(table, out, not unpaired, tuple(notes))


def default_compare_folder(results_root: Path) -> Path:
    """A new ``results_root/compare/<timestamp>`` folder."""
    return new_run_folder(results_root, "compare")
