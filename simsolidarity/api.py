"""The Python API: run a scenario, sweep an experiment, load what either wrote.

These three functions are what the command line runs (``simsolidarity run``, ``sweep``) and what
a script or notebook calls::

    import simsolidarity as ss

    run = ss.run("baseline", seed=1, steps=50)           # a ready scenario, a file or a dict
    run.timeseries.plot(x="step", y="belonging")

    sweep = ss.sweep("experiments/recommenders.yaml", workers=4, out="results/rec")
    sweep.summary.groupby("recommender")["echo_chamber_index"].mean()
    again = ss.load("results/rec")                        # a Sweep, the same tables
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from simsolidarity.analysis.finish import analyze_sweep, draw_run
from simsolidarity.errors import RunsFailedError, SimsolidarityError, shown
from simsolidarity.log import get_logger
from simsolidarity.running.experiment import MAX_RUNS, Experiment, experiment_from_dict, load_experiment
from simsolidarity.running.results import Run, Sweep, load
from simsolidarity.running.run import run_scenario
from simsolidarity.running.scenario import OVERRIDE_SOURCE, Scenario, load_scenario, scenario_from_dict
from simsolidarity.running.sweep import DASK_NO_WORKER_TIMEOUT, default_sweep_folder, latest_sweep_folder, run_sweep

__all__ = ["load", "run", "sweep"]

#: Where results go when no ``out`` is given: ``results/<name>/<timestamp>`` under the working folder.
RESULTS = Path("results")
#: The source the manifest gives the keywords of :func:`run` that override a scenario.
API_SOURCE = "simsolidarity.run"

log = get_logger(__name__)


def scenario_of(
    scenario: str | os.PathLike | Mapping[str, Any] | Scenario,
    overrides: Mapping[str, Any] | None = None,
    origin: str | Mapping[str, str] = OVERRIDE_SOURCE,
) -> Scenario:
    """A validated scenario from a file, a ready scenario's name, a mapping or a :class:`Scenario`.

    ``overrides`` apply over it; ``origin`` says where they were set (``"--set"``), for all or by
    key, and the scenario records them after those it already had.
    """
    if isinstance(scenario, Scenario):
        if not overrides:
            return scenario
        changed = scenario_from_dict(scenario.to_dict(), source=scenario.source, overrides=overrides,
                                     folder=Path(scenario.folder) if scenario.folder else None, origin=origin)
        return replace(changed, overrides=scenario.overrides + changed.overrides)
    if isinstance(scenario, Mapping):
        return scenario_from_dict(dict(scenario), source="<dict>", overrides=overrides, origin=origin)
    if isinstance(scenario, str | os.PathLike):
        return load_scenario(scenario, overrides, origin=origin)
    raise SimsolidarityError(f"scenario: expected a file, a ready scenario's name or a mapping, got {shown(scenario)}")


def experiment_of(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, max_runs: int) -> Experiment:
    """A validated experiment from a file, a mapping or an :class:`Experiment`."""
    if isinstance(experiment, Experiment):
        return experiment
    if isinstance(experiment, Mapping):
        return experiment_from_dict(dict(experiment), source="<dict>", max_runs=max_runs)
    if isinstance(experiment, str | os.PathLike):
        return load_experiment(experiment, max_runs=max_runs)
    raise SimsolidarityError(f"experiment: expected a file or a mapping, got {shown(experiment)}")


def run(
    scenario: str | os.PathLike | Mapping[str, Any] | Scenario = "baseline",
    *,
    seed: int | None = None,
    steps: int | None = None,
    out: str | os.PathLike | None = None,
    progress: bool | Literal["keep"] = False,
    plots: bool = True,
    **parameters: Any,
) -> Run:
    """Simulate one scenario.

    Args:
        scenario: a scenario file, the name of a ready scenario (``"echo_chamber"``; see
            ``simsolidarity list scenarios``), a mapping with the keys of a scenario file, or a
            :class:`~simsolidarity.running.scenario.Scenario`.
        seed: the random seed (default: the scenario's).
        steps: how many steps to run (default: the scenario's).
        out: a folder to write the run into (it must not exist): ``manifest.json``,
            ``timeseries.csv`` and ``plots/``. Default: nothing is written.
        progress: show a progress bar over steps, cleared when the run ends; ``"keep"`` leaves
            it showing (``simsolidarity run --keep-progress``).
        plots: draw the scenario's plots into ``out`` (ignored without ``out``).
        **parameters: model parameters that override the scenario's (``online_depth=0.2``).

    ``seed``, ``steps`` and ``parameters`` are recorded in the manifest's ``overrides``, each with
    the source ``simsolidarity.run``.

    Returns:
        A :class:`Run`: ``.timeseries`` (one row per step), ``.manifest``, ``.model`` (the model
        in its final state) and ``.folder``.

    Raises:
        SimsolidarityError: for a bad scenario, parameter or ``out``, before anything runs.
    """
    overrides = {**parameters, **({"seed": seed} if seed is not None else {}),
                 **({"steps": steps} if steps is not None else {})}
    resolved = scenario_of(scenario, overrides, origin=API_SOURCE)
    folder = None if out is None else Path(out)
    log.info("run %s: %d people, %d steps, seed %d%s", resolved.name, resolved.model["n_people"], resolved.steps,
             resolved.seed, "" if folder is None else f", into {folder}")
    model, manifest, table = run_scenario(resolved, folder, draw=draw_run if plots else None, progress=progress)
    log.info("run %s finished in %.1f s%s", resolved.name, manifest["seconds"],
             "" if folder is None else f"; results in {folder}")
    return Run(manifest, table, folder, model)


def sweep(
    experiment: str | os.PathLike | Mapping[str, Any] | Experiment,
    *,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    allow_failures: bool = False,
    plots: bool = True,
    max_runs: int = MAX_RUNS,
    no_worker_timeout: float = DASK_NO_WORKER_TIMEOUT,
    results: str | os.PathLike = RESULTS,
) -> Sweep:
    """Run every (parameter point, replicate) of an experiment, crash-safe, and analyse the sweep.

    Each run is written to the sweep folder as soon as it finishes; a sweep that stops (an error,
    Ctrl-C, a lost cluster) resumes where it left off when run again into the same folder. A
    run's numbers depend on its seed only, never on the executor or the number of workers.

    A script that sweeps with more than one local worker calls this under ``if __name__ ==
    "__main__":``: the worker processes import the script that started them.

    Args:
        experiment: an experiment file (see ``experiments/``), a mapping with the keys of one, or
            an :class:`~simsolidarity.running.experiment.Experiment`.
        workers: parallel workers (default: the CPU count); 1 runs in this process.
        executor: a registered executor: ``"local"`` (processes on this machine) or ``"dask"``.
        scheduler: a Dask scheduler address (``"tcp://host:8786"``); without it, ``"dask"``
            starts a local cluster.
        out: the sweep folder; an existing one of the same experiment is resumed. Default:
            ``results/<name>/<timestamp>``.
        resume: without ``out``, continue the latest sweep of this experiment under ``results``.
        progress: show a progress bar over runs.
        allow_failures: return the sweep even if runs failed (see ``Sweep.failed``); by default
            failed runs raise :class:`~simsolidarity.RunsFailedError` naming them.
        plots: draw the sweep's plots into its folder.
        max_runs: refuse experiments of more runs than this (a typo should not start a sweep of years).
        no_worker_timeout: seconds a Dask sweep waits without any worker before it stops.
        results: the root of default sweep folders.

    Returns:
        A :class:`Sweep`: ``.summary`` (one row per run: every parameter and every recorded
        outcome), ``.timeseries()`` (one row per run and step), ``.failed``, ``.hypotheses``,
        ``.sensitivity``, ``.calibration`` and ``.folder``.

    Raises:
        SimsolidarityError: before anything is written, for a bad experiment or argument, a
            locked folder or one of another experiment, an unreachable scheduler.
        ExecutorError: when the executor fails during the sweep (the folder stays resumable).
        RunsFailedError: when runs failed and ``allow_failures`` is false.
    """
    resolved = experiment_of(experiment, max_runs)
    if out is not None:
        folder = Path(out)
    elif resume:
        folder = latest_sweep_folder(resolved, Path(results))
    else:
        folder = default_sweep_folder(resolved, Path(results))
    log.info("sweep %s: %d runs (%d points x %d replicates) into %s", resolved.name, resolved.n_runs,
             len(resolved.points), resolved.replicates, folder)
    result = run_sweep(resolved, folder, workers=workers, executor=executor, scheduler=scheduler, progress=progress,
                       no_worker_timeout=no_worker_timeout)
    done = Sweep.from_folder(folder, result.summary)
    analyze_sweep(done, resolved, plots=plots)
    log.info("sweep %s finished: %d of %d runs complete, %d failed; results in %s", resolved.name, result.complete,
             result.total, len(result.failed), folder)
    if result.failed and not allow_failures:
        raise RunsFailedError(folder, result.failed, result.total)
    return done
