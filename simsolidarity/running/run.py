"""Running a scenario: simulate it, and write its run folder.

A run's outcomes are recorded by the model's Mesa ``DataCollector``; :func:`timeseries` turns them
into the run's table and :func:`manifest` into its record. :func:`write_run` writes both (and, when
given a drawing function from the layers above, the run's plots) into a folder, and
:func:`run_scenario` does all of it with a folder that appears only when complete.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.people import PeopleRecorder
from simsolidarity.running.experiment import DEFAULT_FINAL_WINDOW
from simsolidarity.running.folders import (
    MANIFEST,
    NETWORK,
    NETWORK_AT_STEP,
    PEOPLE,
    PLOTS,
    TIMESERIES,
    atomic_folder,
    check_writable,
    code_version,
    now,
    versions,
    write_json,
    write_table,
)
from simsolidarity.running.scenario import Scenario

#: Opinions of every person at given steps: ``{0: start, steps: end}``.
Snapshots = dict[int, np.ndarray]
#: Draws a run's plots into a folder: ``draw(folder, *, scenario, recorded, snapshots)`` -> the files
#: written; ``recorded`` holds every outcome the model recorded, one row per step.
DrawRun = Callable[..., list[Path]]


class StepBar(tqdm):
    """The progress bar of a run's steps, without tqdm's monitor thread (which only corrects the refresh
    rate of bars that stall): the run's plots are drawn in forked processes, safe only from a process
    without other threads (:func:`~simsolidarity.analysis.plots.save_plots`)."""

    monitor_interval = 0


def simulate(scenario: Scenario, *, progress: bool | str = False) -> tuple[SolidarityModel, Snapshots]:
    """Run the scenario's model for its steps; returns the model and the opinions at start and end.

    What the scenario's outputs ask of its people (``people``, ``network``) is recorded as the
    model steps, by a :class:`~simsolidarity.model.people.PeopleRecorder` that stays with the model
    as ``model.people_recorder``, as its outcomes stay in ``model.datacollector`` (``None`` when
    nothing is asked). Recording reads the model's arrays only: it changes no simulated number.
    """
    model = SolidarityModel(scenario.model, rng=scenario.seed, outcomes=scenario.collected_outcomes)
    outputs = scenario.outputs
    recorder = None
    if outputs.people_every is not None or outputs.network_every is not None:
        recorder = PeopleRecorder(outputs.people_every, outputs.network_every)
        recorder.record(model)
    model.people_recorder = recorder
    start = model.opinion.copy()
    # the bar is cleared when the run ends, unless asked to stay (progress="keep", run --keep-progress)
    for _ in StepBar(range(scenario.steps), desc=scenario.name, unit="step", disable=not progress,
                     leave=progress == "keep"):
        model.step()
        if recorder is not None:
            recorder.record(model)
    if recorder is not None:
        recorder.finish(model)
    return model, {0: start, model.steps: model.opinion.copy()}


def timeseries(model: SolidarityModel, outcomes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The recorded outcomes, one row per step: ``step`` first, then ``outcomes`` (default: all recorded)."""
    recorded = model.datacollector.model_vars
    names = [name for name in recorded if name != "step"] if outcomes is None else list(outcomes)
    return pd.DataFrame({"step": recorded["step"], **{name: recorded[name] for name in names}})


def final_window_mean(table: pd.DataFrame, window: int) -> dict[str, float]:
    """Each outcome's mean over the last ``window`` steps, ignoring nan (nan if all are): a run's summary."""
    result = {}
    for name in table.columns.drop("step"):
        tail = table[name].to_numpy(dtype=float)[-window:]
        tail = tail[np.isfinite(tail)]
        result[name] = float(tail.mean()) if tail.size else math.nan
    return result


def manifest(
    scenario: Scenario,
    model: SolidarityModel,
    table: pd.DataFrame,
    *,
    started: str,
    seconds: float,
    window: int = DEFAULT_FINAL_WINDOW,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record of a run: its scenario, where it came from (``source``) and the values set over it
    (``overrides``: each ``key``, ``value`` and ``source``, e.g. ``--set``), seed, outcomes at the last
    step (``final_outcomes``), their means over the last ``window`` steps (``summary``, what sweeps and
    comparisons use), versions and times.
    """
    final = {name: table[name].iloc[-1].item() for name in table.columns if name != "step"}
    return {
        "scenario": scenario.to_dict(),
        "source": scenario.source,
        "overrides": [override.to_dict() for override in scenario.overrides],
        "seed": scenario.seed,
        "steps": model.steps,
        **(extra or {}),
        "final_outcomes": final,
        "final_window": window,
        "summary": final_window_mean(table, window),
        "versions": versions(),
        "code": code_version(),
        "started": started,
        "finished": now(),
        "seconds": round(seconds, 3),
    }


def write_run(
    folder: Path,
    record: dict[str, Any],
    table: pd.DataFrame,
    plots: Callable[[Path], list[Path]] | None = None,
    *,
    recorder: PeopleRecorder | None = None,
) -> dict[str, Any]:
    """Write a run's files into ``folder`` (which must exist); returns the manifest as written.

    ``plots(folder)`` draws the run's plots into the folder it is given (``plots/``) and returns
    the files; without it, none are drawn. ``recorder`` holds what the run recorded of its people
    (see :func:`simulate`): written as ``people.csv.gz`` and GraphML network files.
    """
    write_table(folder / TIMESERIES, table)
    files = [TIMESERIES]
    if recorder is not None:
        files += write_people(folder, recorder)
    if plots is not None:
        files += [str(p.relative_to(folder)) for p in plots(folder / PLOTS)]
    record = {**record, "files": [MANIFEST, *files]}
    write_json(folder / MANIFEST, record)
    return record


def write_people(folder: Path, recorder: PeopleRecorder) -> list[str]:
    """Write what ``recorder`` holds into a run folder; returns the files written, relative to it.

    The people table as ``people.csv.gz``; the network as ``network.graphml`` (``network: final``)
    or as ``network-step-NNNNN.graphml`` at each recorded step (``network: {every: k}``).
    """
    files = []
    if recorder.people is not None:
        write_table(folder / PEOPLE, recorder.people)
        files.append(PEOPLE)
    if recorder.networks:
        import networkx as nx  # only here: the command line starts without it

        for step, graph in recorder.networks.items():
            name = NETWORK if recorder.network_every == "final" else NETWORK_AT_STEP.format(step=step)
            nx.write_graphml(graph, folder / name)
            files.append(name)
    return files


def check_out(out: Path) -> None:
    """Refuse, before any work, a run folder that exists or cannot be written."""
    if out.exists() or out.is_symlink():
        raise SimsolidarityError(f"--out {out}: already exists; choose a new folder")
    check_writable(out)


def run_scenario(
    scenario: Scenario, out: Path | None = None, *, draw: DrawRun | None = None, progress: bool | str = False
) -> tuple[SolidarityModel, dict[str, Any], pd.DataFrame]:
    """Simulate ``scenario``; with ``out``, write its run folder there. Returns the model, manifest and table.

    The folder appears under its final name only when complete. An ``out`` that exists, or a
    place where the folder cannot be written, is refused before the simulation starts.
    """
    if out is not None:
        check_out(out)
    started, clock = now(), perf_counter()
    model, snapshots = simulate(scenario, progress=progress)
    table = timeseries(model, scenario.outputs.outcomes)
    record = manifest(scenario, model, table, started=started, seconds=perf_counter() - clock)
    if out is None:
        return model, record, table
    plots = None
    if draw is not None and scenario.outputs.plots:
        # Plots may show outcomes that are recorded without being written (``collected_outcomes``).
        plots = partial(draw, scenario=scenario, recorded=timeseries(model), snapshots=snapshots)
    with atomic_folder(out) as temporary:
        record = write_run(temporary, record, table, plots, recorder=model.people_recorder)
    return model, record, table
