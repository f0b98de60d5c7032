"""Running a scenario: simulate it and write its results folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
from tqdm import tqdm

from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.model import SolidarityModel
from simsolidarity.analysis.plots import save_plots
from simsolidarity.running.folders import (
    atomic_folder,
    check_writable,
    code_version,
    new_run_folder,
    now,
    versions,
    write_json,
    write_timeseries,
)
from simsolidarity.running.scenario import Scenario
from simsolidarity.analysis.summary import final_window_mean

#: Steps at the end of a run whose outcomes are averaged into its summary.
DEFAULT_FINAL_WINDOW = 10

MANIFEST = "manifest.json"
TIMESERIES = "timeseries.csv"
PLOTS_FOLDER = "plots"


@dataclass(frozen=True)
class RunResult:
    """A finished run: where it was written and its final outcomes."""

    folder: Path
    scenario: Scenario
    final: dict[str, float]


def simulate(scenario: Scenario, *, progress: bool = False) -> tuple[SolidarityModel, dict[int, np.ndarray]]:
    """Run the scenario's model for its steps; returns the model and the opinions at start and end."""
    model = SolidarityModel(scenario.model, rng=scenario.seed, outcomes=scenario.collected_outcomes)
    start = model.opinion.copy()
    for _ in tqdm(range(scenario.steps), desc=scenario.name, unit="step", disable=not progress, leave=False):
        model.step()
    return model, {0: start, model.steps: model.opinion.copy()}


def timeseries(model: SolidarityModel, outcomes: tuple[str, ...]) -> dict[str, list[Any]]:
    """The recorded outcomes as columns: ``step`` first, then ``outcomes`` in the given order."""
    recorded = model.datacollector.model_vars
    return {"step": recorded["step"], **{name: recorded[name] for name in outcomes}}


def write_run(
    folder: Path,
    scenario: Scenario,
    model: SolidarityModel,
    snapshots: dict[int, np.ndarray],
    *,
    plots: bool,
    started: str,
    seconds: float,
    window: int = DEFAULT_FINAL_WINDOW,
    extra: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Write a run's files into ``folder`` (which must exist); returns the final outcomes.

    The manifest holds the outcomes at the last step (``final_outcomes``) and their means over the
    last ``window`` steps (``summary``, what sweeps and comparisons use).
    """
    columns = timeseries(model, scenario.outputs.outcomes)
    write_timeseries(folder / TIMESERIES, columns)
    files = [TIMESERIES]
    if plots and scenario.outputs.plots:
        series = {name: np.asarray(values, dtype=float) for name, values in model.datacollector.model_vars.items()}
        drawn = save_plots(folder / PLOTS_FOLDER, scenario.outputs.plots, series, snapshots, scenario.name)
        files += [str(p.relative_to(folder)) for p in drawn]
    final = {name: values[-1] for name, values in columns.items() if name != "step"}
    write_json(
        folder / MANIFEST,
        {
            "scenario": scenario.to_dict(),
            "source": scenario.source,
            "seed": scenario.seed,
            "steps": model.steps,
            **(extra or {}),
            "final_outcomes": final,
            "final_window": window,
            "summary": final_window_mean(columns, scenario.outputs.outcomes, window),
            "versions": versions(),
            "code": code_version(),
            "started": started,
            "finished": now(),
            "seconds": round(seconds, 3),
            "files": [MANIFEST, *files],
        },
    )
    return final


def run_scenario(
    scenario: Scenario,
    out: Path | None = None,
    *,
    results_root: Path = Path("results"),
    plots: bool = True,
    progress: bool = False,
) -> RunResult:
    """Simulate ``scenario`` and write its folder (``out``, or ``results_root/<name>/<timestamp>``).

    The folder appears under its final name only when complete. An ``out`` that exists, or a
    place where the folder cannot be written, is refused before the simulation starts.
    """
    if out is not None and (out.exists() or out.is_symlink()):
        raise SimsolidarityError(f"--out {out}: already exists; choose a new folder")
    folder = out if out is not None else new_run_folder(results_root, scenario.name)
    check_writable(folder)
    started, clock = now(), perf_counter()
    model, snapshots = simulate(scenario, progress=progress)
    with atomic_folder(folder) as temporary:
        final = write_run(
            temporary, scenario, model, snapshots, plots=plots, started=started, seconds=perf_counter() - clock
        )
    return RunResult(folder, scenario, final)
