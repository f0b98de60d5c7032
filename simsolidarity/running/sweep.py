"""Running experiments: every (parameter point, replicate) on a chosen executor, crash-safe.

Each run is computed wherever the executor puts it (this process, a local process pool, or a
Dask cluster) and comes back as the bytes of its run folder; only this process writes to disk.
A finished run is written at once under a temporary name and renamed, so a sweep killed at any
moment loses only the runs in flight, and a resumed sweep skips every complete run folder.
Seeds come from the experiment (see :meth:`Experiment.runs`), so results do not depend on the
executor, the worker count or the order in which runs finish.

One sweep at a time writes in a folder: it holds an OS lock on ``.lock`` for its whole life
(:func:`sweep_lock`). Its local worker processes end as soon as it ends, however it ends; a Dask
sweep stops when its cluster has had no worker for ``no_worker_timeout`` seconds. Nothing is
written until the executor is up and every recommender the sweep names is known to its workers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import pandas as pd
from tqdm.auto import tqdm

from simsolidarity.errors import CapacityError, ExecutorError, SimsolidarityError, shown
from simsolidarity.log import beside_progress_bars, get_logger
from simsolidarity.model.memory import available_memory, human_bytes
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.executors import (
    DASK_NO_WORKER_TIMEOUT,
    ExecutorOptions,
    Pool,
    executor_factory,
    open_executor,
    usable_cores,
)
from simsolidarity.running.experiment import Experiment, RunPlan
from simsolidarity.running.folders import (
    EXPERIMENT_FILE,
    FAILURES,
    LOCK,
    LOG,
    SUMMARY,
    atomic_folder,
    check_writable,
    complete_runs,
    json_data,
    new_run_folder,
    now,
    read_json,
    run_folder,
    safe_name,
    write_json,
    write_table,
)
from simsolidarity.running.results import FAILURE_COLUMNS, summary_table
from simsolidarity.running.run import manifest, simulate, timeseries, write_run
from simsolidarity.running.scenario import Scenario, import_plugins

logger = get_logger(__name__)


@dataclass(frozen=True)
class RunTask:
    """What a worker needs to compute one run."""

    run: RunPlan
    scenario: Scenario
    window: int


@dataclass(frozen=True)
class RunReport:
    """What comes back from a worker: the run folder's files, or the error that stopped the run."""

    index: int
    files: dict[str, bytes] | None
    error: str | None


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its folder, how many runs it has in all, its summary, which runs failed.

    ``summary`` is the table written to ``summary.csv`` (one row per complete run); ``failed``
    maps each run that failed in this call to its error's last line (the whole traceback is in
    ``sweep.log``).
    """

    folder: Path
    total: int
    summary: pd.DataFrame
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def complete(self) -> int:
        """How many runs are complete."""
        return len(self.summary)


def compute_run(task: RunTask) -> RunReport:
    """Simulate one run and return its folder's files as bytes (runs in a worker, touches no shared disk)."""
    try:
        import_plugins(task.scenario)
        started, clock = now(), perf_counter()
        model, snapshots = simulate(task.scenario)
        table = timeseries(model, task.scenario.outputs.outcomes)
        record = manifest(
            task.scenario, model, table, started=started, seconds=perf_counter() - clock, window=task.window,
            extra={"run": task.run.index, "point": task.run.point, "replicate": task.run.replicate,
                   "values": task.run.values},
        )
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            write_run(folder, record, table, recorder=model.people_recorder)  # runs of a sweep draw no plots
            files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        return RunReport(task.run.index, files, None)
    except Exception:  # noqa: BLE001 - a failing run is recorded and the sweep goes on
        return RunReport(task.run.index, None, traceback.format_exc())


def _reports(pool: Pool, tasks: list[RunTask]) -> Iterator[RunReport]:
    """Each task's report as its run finishes, at most two runs per worker in flight.

    A run whose future fails instead of returning its report (its worker was killed mid-run, its
    result could not be sent back) is reported as failed with that error; an executor that stops
    (its processes died, its cluster is gone) stops the sweep with :class:`ExecutorError`.
    """
    for task, future in pool.bounded(compute_run, tasks):
        try:
            report = future.result()
        except Exception as error:  # noqa: BLE001 - recorded as this run's failure; the sweep goes on
            report = RunReport(task.run.index, None, f"{type(error).__name__}: {error}")
        yield report


def _check_parallel_memory(experiment: Experiment, workers: int) -> None:
    """Refuse a pool of local workers whose models would not fit in this machine's memory together.

    Each worker holds one model at a time; the largest model of the sweep, times the workers,
    must fit in the memory available (each model alone was checked when the experiment was loaded).
    """
    available = available_memory()
    if available is None or workers < 2:
        return
    _, largest = experiment.largest_model
    if largest * workers > available:
        raise CapacityError(
            f"{workers} workers would each hold a model of up to {human_bytes(largest)}: "
            f"{human_bytes(largest * workers)} in all, {human_bytes(available)} available; "
            f"use --workers {max(available // largest, 1)} or fewer"
        )


def known_recommenders(scenario: Scenario) -> list[str]:
    """The recommenders registered once the scenario's plugins are imported (asked of a worker)."""
    import_plugins(scenario)
    return sorted(RECOMMENDERS)


def _check_workers_know(pool: Pool, experiment: Experiment) -> None:
    """Refuse, before any run, recommenders that the worker processes cannot import.

    A recommender registered in a notebook or a script lives in that process only; a worker
    knows the built-in ones and those its plugins register.
    """
    needed = {experiment.scenario.model["recommender"]}
    needed.update(point["recommender"] for point in experiment.points if "recommender" in point)
    unknown = sorted(needed - set(pool.call(known_recommenders, experiment.scenario)))
    if unknown:
        name = unknown[0]
        module = getattr(RECOMMENDERS.get(name), "__module__", None) or "this process"
        raise SimsolidarityError(
            f"recommender {name!r} is registered in this process only (by {module}), so the sweep's worker "
            "processes cannot use it: put it in a module and name that module under 'plugins:' in the "
            "scenario, or run with one worker (--workers 1, workers=1), which runs in this process"
        )


# --- the sweep folder -----------------------------------------------------------------------------


def _check_folder(folder: Path, experiment: Experiment) -> None:
    """Refuse, before anything is written, a folder that is not this experiment's sweep folder."""
    if folder.exists() and not folder.is_dir():
        raise SimsolidarityError(f"{folder}: is a file, not a folder; choose another --out")
    if folder.exists() and any(p.name != LOCK for p in folder.iterdir()):
        if not (folder / EXPERIMENT_FILE).exists():
            raise SimsolidarityError(f"{folder}: exists and is not a sweep folder (no {EXPERIMENT_FILE})")
        _check_record(folder, experiment)
    check_writable(folder)


def _check_record(folder: Path, experiment: Experiment) -> None:
    """Refuse a folder whose recorded experiment is not ``experiment``."""
    if read_json(folder / EXPERIMENT_FILE) != json_data(experiment.to_dict()):
        raise SimsolidarityError(
            f"{folder}: holds a different experiment; resume only with the same experiment file, "
            "or choose another --out"
        )


@contextlib.contextmanager
def sweep_lock(folder: Path) -> Iterator[None]:
    """Hold the sweep folder's lock for the block, so that one sweep at a time writes in a folder.

    An OS lock (``flock``) on ``folder/.lock``, which holds the holder's process id: the kernel
    releases it when the holder ends, however it ends, so a killed sweep never leaves a folder
    locked. A second sweep into a locked folder stops with a :class:`SimsolidarityError` naming the
    holder. The folder is created if needed; if the block fails before it wrote the experiment's
    record, whatever the lock created is removed again, so a refused sweep leaves nothing behind.
    """
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    had_lock_file = path.exists()
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SimsolidarityError(
            f"{folder}: another sweep (process {holder}) is writing in this folder; wait for it to end, or "
            "choose another --out"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    try:
        yield
    except BaseException:
        if not (folder / EXPERIMENT_FILE).exists():
            if created:
                shutil.rmtree(folder, ignore_errors=True)
            elif not had_lock_file:
                path.unlink(missing_ok=True)
        raise
    finally:
        handle.close()  # releases the lock


def _prepare_folder(folder: Path, experiment: Experiment) -> None:
    """Record the experiment in its (locked) folder, or check the record; remove stale temporaries.

    Only the lock's holder calls this, so every temporary run folder found here was left by a
    sweep that stopped, never by one still writing.
    """
    if (folder / EXPERIMENT_FILE).exists():
        _check_record(folder, experiment)  # again, now under the lock
    else:
        write_json(folder / EXPERIMENT_FILE, experiment.to_dict())
    runs = run_folder(folder, 0).parent
    runs.mkdir(exist_ok=True)
    for entry in runs.iterdir():
        if entry.name.startswith("."):  # a run that was in flight when its sweep stopped
            shutil.rmtree(entry, ignore_errors=True)


def _write_run_files(folder: Path, files: dict[str, bytes]) -> None:
    with atomic_folder(folder) as temporary:
        for name, content in files.items():
            path = temporary / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def write_summary(folder: Path, experiment: Experiment, failed: dict[int, str]) -> pd.DataFrame:
    """Write ``summary.csv`` (one row per complete run, from the runs' manifests) and ``failures.csv``
    (the runs that failed in this sweep); returns the summary."""
    table = summary_table(folder, experiment.to_dict())
    write_table(folder / SUMMARY, table)
    failures = [{"run": run.index, "point": run.point, "replicate": run.replicate, "seed": run.seed,
                 "error": failed[run.index]} for run in (experiment.runs() if failed else []) if run.index in failed]
    write_table(folder / FAILURES, pd.DataFrame(failures, columns=list(FAILURE_COLUMNS)))
    return table


def default_sweep_folder(experiment: Experiment, results_root: Path) -> Path:
    """A new ``results_root/<name>/<timestamp>`` folder for a sweep."""
    return new_run_folder(results_root, experiment.name)


def latest_sweep_folder(experiment: Experiment, results_root: Path) -> Path:
    """The most recent sweep folder of this experiment under ``results_root`` (for ``--resume``)."""
    candidates = sorted(p for p in (results_root / safe_name(experiment.name)).glob("*")
                        if (p / EXPERIMENT_FILE).exists())
    if not candidates:
        raise SimsolidarityError(f"--resume: no earlier sweep of {experiment.name!r} under {results_root}")
    return candidates[-1]


def run_sweep(
    experiment: Experiment,
    folder: Path,
    *,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
    no_worker_timeout: float = DASK_NO_WORKER_TIMEOUT,
) -> SweepResult:
    """Run every run of ``experiment`` not yet complete in ``folder``; write its summary and failures.

    The sweep's analysis (plots, sensitivity, hypothesis) is the analysis layer's:
    :func:`simsolidarity.sweep` runs it after this.

    Args:
        experiment: the validated experiment.
        folder: the sweep folder; created if new, resumed if it holds this experiment. It is
            locked while the sweep runs: a second sweep into it is refused.
        workers: parallel workers, 1 or more (default: the CPU count); 1 runs in this process.
        executor: a registered executor (:mod:`simsolidarity.running.executors`): ``local``
            (processes on this machine, the default), ``dask``, or one of the user's.
        scheduler: a Dask scheduler address such as ``tcp://host:8786``; without it, ``dask``
            starts a local cluster.
        progress: show a progress bar over runs.
        no_worker_timeout: seconds a Dask sweep waits while its cluster has no worker before it
            stops with :class:`ExecutorError` (the folder stays resumable).

    Raises:
        SimsolidarityError: before anything is written, for a bad argument, a folder that is
            locked, is a file or holds another experiment, an unreachable scheduler, or a
            recommender that worker processes cannot import.
        ExecutorError: when the executor fails during the sweep (the folder stays resumable), and
            when every run failed.
    """
    executor_factory(executor)  # an unknown name is refused before anything is written
    if workers is None:
        workers = usable_cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SimsolidarityError(f"--workers {shown(workers)}: expected a whole number of workers, 1 or more")
    _check_folder(folder, experiment)
    with sweep_lock(folder):
        runs = experiment.runs()
        complete = set(complete_runs(folder))  # the lock's holder alone adds to them
        pending = max(len(runs) - len(complete), 1)
        if executor == "local":
            _check_parallel_memory(experiment, min(workers, pending))
        options = ExecutorOptions(scheduler, no_worker_timeout)
        with open_executor(executor, min(workers, pending), options) as pool:
            _check_workers_know(pool, experiment)  # in this process, it finds every recommender
            _prepare_folder(folder, experiment)
            tasks = [RunTask(r, experiment.scenario_for(r), experiment.final_window)
                     for r in runs if r.index not in complete]
            failed = _run_tasks(folder, experiment, pool, tasks, len(runs), len(complete), executor, progress)
        summary = write_summary(folder, experiment, failed)
        if tasks and len(failed) == len(tasks):
            first = failed[min(failed)]
            raise ExecutorError(
                f"all {len(tasks)} runs failed; the first, run {min(failed)}: {first}; see {folder / LOG}"
            )
    return SweepResult(folder, len(runs), summary, dict(sorted(failed.items())))


def _run_tasks(
    folder: Path, experiment: Experiment, pool: Pool, tasks: list[RunTask],
    total: int, complete: int, executor: str, progress: bool,
) -> dict[int, str]:
    """Run the tasks on the pool, writing each finished run at once; returns the failures by run index."""
    failed: dict[int, str] = {}
    written = 0
    with (
        tqdm(total=total, initial=complete, desc=experiment.name, unit="run", disable=not progress) as bar,
        beside_progress_bars(tqdm),
        (folder / LOG).open("a", encoding="utf-8") as log,
    ):
        log.write(f"{now()} sweep of {total} runs: {complete} complete, {len(tasks)} to run "
                  f"({executor}, {pool.workers} workers)\n")
        log.flush()
        logger.info("sweep %s: %d of %d runs complete, %d to run (%s, %d workers) in %s", experiment.name, complete,
                    total, len(tasks), executor, pool.workers, folder)
        try:
            for report in _reports(pool, tasks):
                if report.error is None:
                    _write_run_files(run_folder(folder, report.index), report.files or {})
                    written += 1
                else:
                    failed[report.index] = _last_line(report.error)
                    log.write(f"{now()} run {report.index} failed:\n{report.error}\n")
                    logger.warning("run %d of sweep %s failed: %s (traceback in %s)", report.index, experiment.name,
                                   failed[report.index], folder / LOG)
                log.flush()
                bar.update()
        except ExecutorError as error:
            done = complete + written
            log.write(f"{now()} stopped: {error}\n")
            raise ExecutorError(f"{error}; {done} of {total} runs are complete in {folder}: run the same "
                                "sweep again with this --out to resume") from None
        log.write(f"{now()} finished: {len(failed)} failed\n")
        logger.info("sweep %s: %d runs written, %d failed", experiment.name, written, len(failed))
    return failed


def _last_line(error: str) -> str:
    """The last non-empty line of a traceback: the exception and its message."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else error
