"""A Markdown report of one or more sweep folders: what was claimed, how it was run, what came out.

For each sweep, in the order given: its name and description, the claim stated before the run,
the design (sampler, points, replicates, paired seeds or not, steps, final window), a table of
every arm (each parameter point: the mean and confidence interval of each outcome, from
:func:`~simsolidarity.analysis.summary.summarize`), the verdicts on the claim's emergent
expectations (a polarization verdict with its comparison on every measure it was checked with),
the mechanism expectations in a table of their own (checks of the implementation,
not findings: see :mod:`simsolidarity.running.experiment`), the sensitivity indices of a ``morris``
or ``sobol`` sweep, the calibration to the experiment's targets (each target with its source, the
acceptance rate, and the accepted points or the closest ones), and the sweep's plots.

Everything comes from the folders (``experiment.json``, the runs' manifests, ``hypotheses.csv``,
``sensitivity.csv``, ``calibration.csv``, ``plots/``); nothing is simulated or tested again. A sweep that was stopped
reports its complete runs; one without a hypothesis says so. Numbers have four significant
digits, and the same folders give the same bytes: the body holds no time, only the folders it was
generated from.

Written to a file, the report copies each sweep's plots into a folder beside it named after the
file (``report.md``: ``report_files/1-<sweep>/``), so that the report and that folder can be moved
or shared together. Not written (:func:`report` without ``out``), its images link to the sweep
folders' own ``plots/``, relative to the current directory.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from simsolidarity.analysis.calibration import ACCEPTED, DISTANCE, RUNS, acceptance_text, closest, targets_of
from simsolidarity.analysis.summary import interval_note, summarize
from simsolidarity.errors import SimsolidarityError
from simsolidarity.running.experiment import EMERGENT, KERNEL_POLARIZATION, MECHANISM, MOMENT_POLARIZATION
from simsolidarity.running.folders import (
    CALIBRATION,
    EXPERIMENT_FILE,
    FAILURES,
    HYPOTHESES,
    LOG,
    PLOTS,
    SENSITIVITY,
    check_writable,
    is_run_folder,
    is_sweep_folder,
    new_run_folder,
    safe_name,
)
from simsolidarity.running.results import Sweep

#: The report's file name in a folder of its own (the default).
REPORT_FILE = "report.md"
#: Shown in a table for a number that is not there (no value, or fewer than two for an interval).
MISSING = "—"
#: Significant digits of the numbers of a report.
DIGITS = 4


def number(value: Any, *, signed: bool = False) -> str:
    """A number as the report shows it: four significant digits (``+`` before positive ones if ``signed``).

    Integers are shown whole; nan, ``None`` and infinities as :data:`MISSING`.
    """
    if value is None or isinstance(value, str):
        return MISSING if value is None else value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer_dtype(value.dtype)):
        return f"{int(value):+d}" if signed else str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return MISSING
    return f"{value:+.{DIGITS}g}" if signed else f"{value:.{DIGITS}g}"


def interval(low: Any, high: Any, *, signed: bool = False) -> str:
    """``[low, high]`` with :func:`number`, or :data:`MISSING` where the interval is undefined."""
    if not (_finite(low) and _finite(high)):
        return MISSING
    return f"[{number(low, signed=signed)}, {number(high, signed=signed)}]"


def default_report_file(results_root: Path) -> Path:
    """``results_root/report/<timestamp>/report.md``, in a folder that does not exist yet."""
    return new_run_folder(results_root, "report") / REPORT_FILE


def open_sweeps(folders: Sequence[str | Path]) -> list[Sweep]:
    """The sweeps of ``folders``, every one checked before any is read further.

    Raises:
        SimsolidarityError: for a folder that does not exist, a run folder, or any other folder
            that is not a sweep folder, naming it.
    """
    if not folders:
        raise SimsolidarityError("a report needs at least one sweep folder")
    sweeps = []
    for folder in map(Path, folders):
        if not folder.exists():
            raise SimsolidarityError(f"{folder}: no such folder")
        if not is_sweep_folder(folder):
            what = ("a run folder, not a sweep folder; 'simsolidarity compare' puts run folders side by side"
                    if is_run_folder(folder) else f"not a sweep folder (no {EXPERIMENT_FILE})")
            raise SimsolidarityError(f"{folder}: {what}; a report reads the folders written by 'simsolidarity sweep'")
        sweeps.append(Sweep.from_folder(folder))
    return sweeps


def report(folders: Sequence[str | Path], out: str | Path | None = None, *, copy_plots: bool = True) -> str:
    """The Markdown report of the sweep folders ``folders``, in the order given; written to ``out`` if given.

    Args:
        folders: sweep folders, written by ``simsolidarity sweep`` or ``simsolidarity.sweep``
            (complete or stopped).
        out: the Markdown file to write. Each sweep's plots are copied beside it, into
            ``<out's stem>_files/<k>-<sweep name>/`` (k counts the sweeps from 1), and the report
            links to the copies. ``None``: nothing is written, and the report links to the
            sweep folders' ``plots/``, relative to the current directory.
        copy_plots: with ``out``, ``False`` links to the sweep folders' own ``plots/`` (relative to
            ``out``'s folder) instead of copying them: for a report kept beside its sweep folders.

    Returns:
        The report's text: the same folders give the same text.

    Raises:
        SimsolidarityError: for a folder that is not a sweep folder (nothing is written), or an
            ``out`` that is a folder or cannot be written.
    """
    sweeps = open_sweeps(folders)
    if out is None:
        return _render(sweeps, [str(folder) for folder in folders], _link_in_place)
    out = Path(out)
    if out.is_dir():
        raise SimsolidarityError(f"{out}: is a folder; give the report's file, such as {out / REPORT_FILE}")
    check_writable(out.parent)
    if not copy_plots:
        text = _render(sweeps, [_relative(Path(folder), out.parent, quoted=False) for folder in folders],
                       lambda index, sweep, plot: _relative(plot, out.parent))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="\n")
        return text
    files = out.with_name(f"{out.stem}_files")
    copies: list[tuple[Path, Path]] = []

    def link(index: int, sweep: Sweep, plot: Path) -> str:
        copy = files / f"{index}-{safe_name(sweep.name)}" / plot.name
        copies.append((plot, copy))
        return _relative(copy, out.parent)

    text = _render(sweeps, [str(folder) for folder in folders], link)
    out.parent.mkdir(parents=True, exist_ok=True)
    for plot, copy in copies:
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plot, copy)
    out.write_text(text, encoding="utf-8", newline="\n")
    return text


# --- the report's parts ---------------------------------------------------------------------------

#: Gives the link to a sweep's plot (the sweep's number from 1, the sweep, the plot file).
Link = Callable[[int, Sweep, Path], str]


def _render(sweeps: Sequence[Sweep], names: Sequence[str], link: Link) -> str:
    lines = ["# Sweep report", "", f"Generated from {', '.join(f'`{name}`' for name in names)}.", ""]
    for index, (sweep, name) in enumerate(zip(sweeps, names, strict=True), start=1):
        lines += _sweep_section(index, sweep, name, link)
    return "\n".join(lines).rstrip("\n") + "\n"


def _sweep_section(index: int, sweep: Sweep, name: str, link: Link) -> list[str]:
    experiment = sweep.experiment
    lines = [f"## {sweep.name}", "", f"Folder: `{name}`.", ""]
    description = " ".join(str(experiment.get("description") or "").split())
    if description:
        lines += [description, ""]
    hypothesis = experiment.get("hypothesis")
    claim = " ".join(hypothesis["claim"].split()) if hypothesis else None
    lines += [f"**Claim, stated before the run.** {claim}" if claim else "No claim was stated before the run.", ""]
    lines += _design(sweep)
    lines += _arms(sweep)
    lines += _verdicts(sweep)
    lines += _sensitivity(sweep)
    lines += _calibration(sweep)
    lines += _plots(index, sweep, link)
    return lines


def _design(sweep: Sweep) -> list[str]:
    experiment = sweep.experiment
    scenario = experiment["scenario"]
    replicates = experiment["replicates"]
    paired = experiment.get("paired", True)
    sampler = experiment.get("sampler", "grid")
    samples = experiment.get("samples")
    seeds = ("paired: replicate r has the same seed at every point" if paired
             else "unpaired: each run has a seed of its own")
    failed = len(sweep.failed)
    rows = [
        ("sampler", sampler + (f" ({samples} samples)" if samples else "")),
        ("points", f"{len(experiment['points'])}, sweeping {', '.join(f'`{p}`' for p in sweep.swept)}"),
        ("replicates", f"{replicates} per point; seeds {seeds} (root seed {experiment.get('seed', scenario['seed'])})"),
        ("runs", f"{sweep.complete} of {sweep.total} complete"
                 + (f"; {failed} failed (`{FAILURES}`, tracebacks in `{LOG}`)" if failed else "")),
        ("steps", str(scenario["steps"])),
        ("final window", f"the last {experiment.get('final_window', MISSING)} steps, averaged into each run's "
                         "outcomes"),
        ("base scenario", f"`{scenario['name']}`, {scenario['model'].get('n_people', MISSING)} people"),
    ]
    return ["### Design", "", "| | |", "| --- | --- |", *(_row(row) for row in rows), ""]


def _arms(sweep: Sweep) -> list[str]:
    """Every parameter point: its swept values, its complete runs, each outcome's mean and interval."""
    points, outcomes, swept = sweep.experiment["points"], sweep.outcomes, sweep.swept
    table = sweep.summary
    lines = ["### Arms", ""]
    if table.empty:
        return [*lines, "No run is complete yet.", ""]
    summary = summarize(table, outcomes)
    cells = {(row.point, row.outcome): row for row in summary.itertuples(index=False)}
    runs = table.groupby("point").size()
    lines += [_row(["point", *(f"`{name}`" for name in swept), "runs", *(f"`{name}`" for name in outcomes)]),
              _row(["---"] * (len(swept) + 2 + len(outcomes)))]
    for point, values in enumerate(points):
        count = int(runs.get(point, 0))
        row = [str(point), *(number(values.get(name)) for name in swept), str(count)]
        for outcome in outcomes:
            cell = cells.get((point, outcome))
            row.append(MISSING if cell is None else _mean_cell(cell, count))
        lines.append(_row(row))
    note = interval_note(summary["interval"]) if not summary.empty else "95% interval of the mean"
    return [*lines, "", f"Each cell: the mean over the point's runs, then its {note} in brackets; n counts the "
                        "runs where an outcome is defined, when not all.", ""]


def _mean_cell(cell: Any, runs: int) -> str:
    if not _finite(cell.mean):
        return MISSING
    text = number(cell.mean)
    bounds = interval(cell.low, cell.high)
    if bounds != MISSING:
        text += f" {bounds}"
    return text + (f" (n={cell.n})" if cell.n != runs else "")


def _verdicts(sweep: Sweep) -> list[str]:
    """The emergent expectations as findings, the mechanism ones as checks of the implementation."""
    hypothesis = sweep.experiment.get("hypothesis")
    if not hypothesis:
        return []
    verdicts = sweep.hypotheses
    if verdicts is None or verdicts.empty:
        reason = "no run is complete" if sweep.complete == 0 else f"the sweep wrote no `{HYPOTHESES}` (stopped early)"
        return ["### Verdicts", "", f"Not tested: {reason}.", ""]
    verdicts = verdicts.assign(kind=_kinds(verdicts, hypothesis))
    if "role" not in verdicts.columns:  # a folder written before polarization verdicts were checked
        verdicts = verdicts.assign(role="stated")
    stated = verdicts[verdicts["role"] == "stated"]
    lines = []
    found = stated[stated["kind"] == EMERGENT]
    if not found.empty:
        lines += ["### Verdicts", "", *_verdict_table(found),
                  "", "Difference: the `when` side minus the `than` side, with its 95% confidence interval; n: paired "
                  "replicates, or the smaller group of runs. Supported: the interval lies on the expected side of 0; "
                  "contradicted: on the other side; inconclusive: it holds 0.", ""]
        lines += _measure_by_measure(verdicts[verdicts["kind"] == EMERGENT])
    checks = stated[stated["kind"] == MECHANISM]
    if not checks.empty:
        lines += ["### Checks of the implementation", "",
                  "Each direction below follows from one rule of the model, so these test the code, not the claim: "
                  "a verdict other than supported points to a bug.", "", *_verdict_table(checks), ""]
    return lines


def _measure_by_measure(verdicts: pd.DataFrame) -> list[str]:
    """For each expectation on polarization, its comparison on every measure its verdict was checked with."""
    checked = verdicts[verdicts["role"] == "check"]["expectation"].unique()
    if not len(checked):
        return []
    lines = ["#### Polarization, measure by measure", "",
             f"A polarization verdict holds only where `{KERNEL_POLARIZATION}` (kernel density, no bins) and "
             f"{' or '.join(f'`{m}`' for m in MOMENT_POLARIZATION)} move the same way with 95% intervals that "
             "exclude 0, and the measure the expectation names does not move the other way; otherwise the answer "
             "depends on the measure. `esteban_ray` is shown at 10, 20 and 40 bins where it carries a verdict.", ""]
    for expectation in checked:
        rows = verdicts[verdicts["expectation"] == expectation]
        lines += [f"{expectation}: **{rows['verdict'].iloc[0]}**.", "",
                  _row(["measure", "difference", "95% CI", "result"]), _row(["---"] * 4)]
        for row in rows.itertuples(index=False):
            lines.append(_row([f"`{row.outcome}`", number(row.difference, signed=True),
                               interval(row.low, row.high, signed=True), row.measured]))
        lines.append("")
    return lines


def _kinds(verdicts: pd.DataFrame, hypothesis: dict[str, Any]) -> pd.Series:
    """Each verdict's kind: its column, or else the recorded expectation's (an older folder), else emergent."""
    if "kind" in verdicts.columns:
        return verdicts["kind"].fillna(EMERGENT)
    recorded = [item.get("kind", EMERGENT) for item in hypothesis.get("expect", [])]
    return pd.Series([recorded[i] if i < len(recorded) else EMERGENT for i in range(len(verdicts))],
                     index=verdicts.index)


def _verdict_table(verdicts: pd.DataFrame) -> list[str]:
    lines = [_row(["expectation", "difference", "95% CI", "n", "verdict", "comparison"]), _row(["---"] * 6)]
    for row in verdicts.itertuples(index=False):
        lines.append(_row([row.expectation, number(row.difference, signed=True),
                           interval(row.low, row.high, signed=True), number(row.n), row.verdict, row.comparison]))
    return lines


def _sensitivity(sweep: Sweep) -> list[str]:
    table = sweep.sensitivity
    if table is None or table.empty:
        return []
    columns = list(table.columns)
    lines = ["### Sensitivity", "", f"From `{SENSITIVITY}` ({sweep.experiment.get('sampler')}).", "",
             _row([f"`{c}`" if c not in ("outcome", "parameter") else c for c in columns]),
             _row(["---"] * len(columns))]
    for row in table.itertuples(index=False):
        lines.append(_row([number(value) for value in row]))
    return [*lines, ""]


def _calibration(sweep: Sweep) -> list[str]:
    """The targets with their sources, the acceptance rate, and the accepted points (or the five closest)."""
    targets = targets_of(sweep.experiment)
    if not targets:
        return []
    lines = ["### Calibration", "",
             "Each target is a range that an outcome's mean at a point (over its replicates, of each run's "
             "final-window mean) should fall in; a point inside every target is accepted (approximate Bayesian "
             "computation by rejection, pattern-oriented modelling).", "",
             _row(["outcome", "target", "source"]), _row(["---"] * 3),
             *(_row([f"`{t.outcome}`", interval(t.low, t.high), t.source]) for t in targets), ""]
    table = sweep.calibration
    if table is None:
        reason = "no run is complete" if sweep.complete == 0 else f"the sweep wrote no `{CALIBRATION}` (stopped early)"
        return [*lines, f"Not calibrated: {reason}.", ""]
    lines += [f"{acceptance_text(table)} (`{CALIBRATION}`).", ""]
    accepted = table[table[ACCEPTED].astype(bool)]
    columns = [name for name in sweep.swept if name in table.columns] + [t.outcome for t in targets]
    if not accepted.empty:
        return [*lines, "The accepted points:", "", *_points_table(accepted, columns), "",
                *_accepted_region(table, accepted, [name for name in columns if name in sweep.swept])]
    return [*lines, "No point is inside every target; the closest, by the distance to the targets' box:", "",
            *_points_table(closest(table[table[RUNS] > 0]), [*columns, DISTANCE]), "",
            "Distance: per target, how far the mean lies outside its range divided by the range's width (0 inside), "
            "combined over the targets as the Euclidean norm.", ""]


def _accepted_region(table: pd.DataFrame, accepted: pd.DataFrame, parameters: list[str]) -> list[str]:
    """Where the accepted points lie in each numeric swept parameter, against all the points sampled."""
    numeric = [name for name in parameters if pd.api.types.is_numeric_dtype(table[name])]
    if not numeric:
        return []
    lines = ["Where they lie, against every point sampled:", "",
             _row(["parameter", "sampled", "accepted: least", "median", "greatest"]), _row(["---"] * 5)]
    for name in numeric:
        values = accepted[name]
        lines.append(_row([f"`{name}`", interval(table[name].min(), table[name].max()), number(values.min()),
                           number(values.median()), number(values.max())]))
    return [*lines, ""]


def _points_table(table: pd.DataFrame, columns: list[str]) -> list[str]:
    """A table of parameter points: the point's number, then ``columns`` (code-formatted but ``distance``)."""
    lines = [_row(["point", *(name if name == DISTANCE else f"`{name}`" for name in columns)]),
             _row(["---"] * (len(columns) + 1))]
    for row in table.to_dict("records"):
        lines.append(_row([str(row["point"]), *(number(row[name]) for name in columns)]))
    return lines


def _plots(index: int, sweep: Sweep, link: Link) -> list[str]:
    folder = sweep.folder / PLOTS
    plots = sorted(folder.glob("*.png"), key=lambda path: _plot_order(path, sweep.outcomes)) if folder.is_dir() else []
    if not plots:
        return []
    lines = ["### Plots", ""]
    for plot in plots:
        title = plot.stem.replace("_timeseries", " over time").replace("_", " ")
        lines += [f"![{title}]({link(index, sweep, plot)})", ""]
    return lines


def _plot_order(path: Path, outcomes: list[str]) -> tuple[int, int, str]:
    """Each outcome against the swept parameters, the frontier, each outcome over time, then the rest."""
    stem = path.stem
    if stem in outcomes:
        return (0, outcomes.index(stem), stem)
    if stem == "frontier":
        return (1, 0, stem)
    over_time = stem.removesuffix("_timeseries")
    if over_time != stem and over_time in outcomes:
        return (2, outcomes.index(over_time), stem)
    return (3, 0, stem)


# --- Markdown ---------------------------------------------------------------------------------------


def _row(cells: Sequence[str]) -> str:
    """A table row; a ``|`` inside a cell is escaped so that it stays one cell."""
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def _link_in_place(index: int, sweep: Sweep, plot: Path) -> str:
    return _relative(plot, Path.cwd())


def _relative(path: Path, start: Path, *, quoted: bool = True) -> str:
    """``path`` relative to ``start``, as a link: forward slashes, escaped for a URL (if ``quoted``)."""
    relative = Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
    return quote(relative) if quoted else relative


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
