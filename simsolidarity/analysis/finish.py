"""What the analysis layer adds to a finished run or sweep: plots, sensitivity, hypothesis verdicts, calibration.

The running layer simulates and writes the runs; these functions are handed to it (a run's
plots) or called after it (a sweep's analysis), so that running never imports analysis.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simsolidarity.analysis.calibration import write_calibration
from simsolidarity.analysis.hypotheses import evaluate_hypothesis
from simsolidarity.analysis.plots import save_plots, save_sweep_plots
from simsolidarity.analysis.sensitivity import write_sensitivity
from simsolidarity.running.experiment import Experiment
from simsolidarity.running.folders import HYPOTHESES, PLOTS, write_table
from simsolidarity.running.results import Sweep
from simsolidarity.running.run import Snapshots
from simsolidarity.running.samplers import SAMPLERS
from simsolidarity.running.scenario import Scenario


def draw_run(folder: Path, *, scenario: Scenario, recorded: pd.DataFrame, snapshots: Snapshots) -> list[Path]:
    """Draw the scenario's plots (``outputs.plots``) of a run into ``folder``; returns the files written.

    ``recorded`` holds every outcome the run recorded, one row per step.
    """
    series = {name: recorded[name].to_numpy(dtype=float) for name in recorded.columns}
    return save_plots(folder, scenario.outputs.plots, series, snapshots, scenario.name)


def analyze_sweep(sweep: Sweep, experiment: Experiment, *, plots: bool = True) -> None:
    """Write a sweep's analysis into its folder: the hypothesis verdicts (``hypotheses.csv``), the
    sensitivity indices of a sampler that has an analysis (``sensitivity.csv``: ``morris``, ``sobol``
    or a registered one), the calibration to the experiment's targets (``calibration.csv``), and the
    plots.

    Reads the sweep's complete runs; with none, writes nothing.
    """
    table = sweep.summary
    if table.empty:
        return
    if plots and experiment.plots:
        save_sweep_plots(sweep.folder / PLOTS, experiment, sweep)
    if SAMPLERS[experiment.sampler].analysis is not None:
        write_sensitivity(sweep.folder, experiment, table, plots)
    if experiment.hypothesis is not None:
        write_table(sweep.folder / HYPOTHESES, evaluate_hypothesis(experiment.hypothesis, table, experiment.paired))
    if experiment.targets:
        write_calibration(sweep.folder, experiment, table, plots)
