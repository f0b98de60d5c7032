"""Running experiments: every (parameter point, replicate) on a chosen executor, crash-safe.

Each run is computed wherever the executor puts it (this process, a local process pool, or a
Dask cluster) and comes back as the bytes of its run folder; only this process writes to disk.
A finished run is written at once under a temporary name and renamed, so a sweep killed at any
moment loses only the runs in flight, and a resumed sweep skips every complete run folder.
Seeds come from the experiment (see :meth:`Experiment.runs`), so results do not depend on the
executor, the worker count or the order in which runs finish.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from tqdm import tqdm

from .errors import SimsolidarityError
from .experiment import SENSITIVITY_SAMPLERS, Experiment, Run
from .hypotheses import evaluate_hypothesis
from .plots import save_sweep_plots
from .results import (
    atomic_folder,
    json_data,
    new_run_folder,
    now,
    read_json,
    read_timeseries,
    write_json,
    write_rows,
    write_timeseries,
)
from .runner import MANIFEST, TIMESERIES, simulate, write_run
from .scenario import Scenario, import_plugins
from .sensitivity import write_sensitivity

EXPERIMENT_FILE = "experiment.json"
SUMMARY = "summary.csv"
LOG = "sweep.log"
HYPOTHESES = "hypotheses.csv"
RUNS = "runs"
EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class RunTask:
    """What a worker needs to compute one run."""

    run: Run
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
    """A finished sweep: its folder, how many runs it has in all, how many are complete, which failed."""

    folder: Path
    total: int
    complete: int
    failed: list[int]
    hypotheses: list[dict[str, Any]]


def run_folder_name(index: int) -> str:
    """The folder of run ``index`` inside ``runs/``."""
    return f"run-{index:05d}"


def compute_run(task: RunTask) -> RunReport:
    """Simulate one run and return its folder's files as bytes (runs in a worker, touches no shared disk)."""
    try:
        import_plugins(task.scenario)
        started, clock = now(), perf_counter()
        model, snapshots = simulate(task.scenario)
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            write_run(
                folder, task.scenario, model, snapshots, plots=False, started=started,
                seconds=perf_counter() - clock, window=task.window,
                extra={"run": task.run.index, "point": task.run.point, "replicate": task.run.replicate,
                       "values": task.run.values},
            )
            files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        return RunReport(task.run.index, files, None)
    except Exception:  # noqa: BLE001 - a failing run is recorded and the sweep goes on
        return RunReport(task.run.index, None, traceback.format_exc())


# --- executors: each yields reports as runs finish, with a bounded number in flight -------------


def _in_process(tasks: list[RunTask], workers: int, scheduler: str | None) -> Iterator[RunReport]:
    for task in tasks:
        yield compute_run(task)


def _process_pool(tasks: list[RunTask], workers: int, scheduler: str | None) -> Iterator[RunReport]:
    # An explicit context, never the process-wide default, so that a sweep behaves the same from a
    # script, from Jupyter, and after mesa.batch_run has set the default to 'spawn'. Where it exists,
    # 'forkserver' starts workers from a clean server that has already imported the model (fast
    # and thread-safe); elsewhere 'spawn'.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["simsolidarity.sweep"])
    else:
        context = multiprocessing.get_context("spawn")
    with futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from _bounded(tasks, workers, lambda task: pool.submit(compute_run, task), _wait_first)


def _wait_first(pending: set) -> tuple[set, set]:
    return futures.wait(pending, return_when=futures.FIRST_COMPLETED)


def _dask(tasks: list[RunTask], workers: int, scheduler: str | None) -> Iterator[RunReport]:
    try:
        from dask.distributed import Client, LocalCluster, wait
    except ImportError:
        raise SimsolidarityError(
            "the dask executor needs Dask distributed: pip install -e '.[distributed]'"
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as error:
            raise SimsolidarityError(f"--scheduler {scheduler}: cannot connect ({error})") from None
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    try:
        def first(pending: set) -> tuple[set, set]:
            done = wait(list(pending), return_when="FIRST_COMPLETED").done
            return set(done), pending - set(done)

        # pure=False: every submission is computed, never served from Dask's cache of equal calls.
        yield from _bounded(tasks, workers, lambda task: client.submit(compute_run, task, pure=False), first)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _bounded(
    tasks: list[RunTask], workers: int, submit: Callable[[RunTask], Any], wait_first: Callable[[set], tuple[set, set]]
) -> Iterator[RunReport]:
    """Keep at most two runs per worker in flight, so memory stays flat in the number of runs."""
    queue = iter(tasks)
    pending: set = set()
    for task in queue:
        pending.add(submit(task))
        if len(pending) >= 2 * workers:
            break
    while pending:
        done, pending = wait_first(pending)
        for future in done:
            yield future.result()
            following = next(queue, None)
            if following is not None:
                pending.add(submit(following))


EXECUTE: dict[str, Callable[[list[RunTask], int, str | None], Iterator[RunReport]]] = {
    "local": lambda tasks, workers, scheduler: (
        _in_process(tasks, workers, scheduler) if workers == 1 else _process_pool(tasks, workers, scheduler)
    ),
    "dask": _dask,
}


# --- the sweep folder -----------------------------------------------------------------------------


def _prepare_folder(folder: Path, experiment: Experiment) -> set[int]:
    """Create the sweep folder, or check that an existing one holds this experiment; returns complete runs."""
    resolved = experiment.to_dict()
    record = folder / EXPERIMENT_FILE
    if folder.exists() and any(folder.iterdir()):
        if not record.exists():
            raise SimsolidarityError(f"{folder}: exists and is not a sweep folder (no {EXPERIMENT_FILE})")
        if read_json(record) != json_data(resolved):
            raise SimsolidarityError(
                f"{folder}: holds a different experiment; resume only with the same experiment file, "
                "or choose another --out"
            )
    else:
        folder.mkdir(parents=True, exist_ok=True)
        write_json(record, resolved)
    runs = folder / RUNS
    runs.mkdir(exist_ok=True)
    complete = set()
    for entry in runs.iterdir():
        if entry.name.startswith("."):  # a run that was in flight when the sweep stopped
            shutil.rmtree(entry, ignore_errors=True)
        elif (entry / MANIFEST).exists():
            complete.add(int(entry.name.removeprefix("run-")))
    return complete


def _write_run_files(folder: Path, files: dict[str, bytes]) -> None:
    with atomic_folder(folder) as temporary:
        for name, content in files.items():
            path = temporary / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def write_summary(folder: Path, experiment: Experiment) -> int:
    """Write ``summary.csv``: one row per complete run, in run order, from the runs' manifests."""
    columns: dict[str, list[Any]] = {
        name: [] for name in ("run", "point", "replicate", "seed", *experiment.swept, *experiment.outcomes)
    }
    for run in experiment.runs():
        manifest_path = folder / RUNS / run_folder_name(run.index) / MANIFEST
        if not manifest_path.exists():
            continue
        summary = read_json(manifest_path)["summary"]
        row = {"run": run.index, "point": run.point, "replicate": run.replicate, "seed": run.seed, **run.values}
        for name in experiment.outcomes:
            row[name] = float("nan") if summary.get(name) is None else summary[name]
        for name, column in columns.items():
            column.append(row[name])
    write_timeseries(folder / SUMMARY, columns)
    return len(columns["run"])


def default_sweep_folder(experiment: Experiment, results_root: Path) -> Path:
    """A new ``results_root/<name>/<timestamp>`` folder for a sweep."""
    return new_run_folder(results_root, experiment.name)


def latest_sweep_folder(experiment: Experiment, results_root: Path) -> Path:
    """The most recent sweep folder of this experiment under ``results_root`` (for ``--resume``)."""
    candidates = sorted(p for p in (results_root / experiment.name).glob("*") if (p / EXPERIMENT_FILE).exists())
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
    plots: bool = True,
) -> SweepResult:
    """Run every run of ``experiment`` not yet complete in ``folder``; write summary and plots.

    Args:
        experiment: the validated experiment.
        folder: the sweep folder; created if new, resumed if it holds this experiment.
        workers: parallel workers (default: the CPU count); 1 runs in this process.
        executor: ``local`` (processes on this machine) or ``dask``.
        scheduler: a Dask scheduler address such as ``tcp://host:8786``; without it, ``dask``
            starts a local cluster.
        progress: show a progress bar over runs.
        plots: draw the sweep's plots at the end.
    """
    if executor not in EXECUTORS:
        raise SimsolidarityError(f"--executor {executor}: expected one of {', '.join(EXECUTORS)}")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise SimsolidarityError(f"--workers {workers}: expected 1 or more")
    complete = _prepare_folder(folder, experiment)
    runs = experiment.runs()
    tasks = [RunTask(r, experiment.scenario_for(r), experiment.final_window) for r in runs if r.index not in complete]
    failed: list[int] = []
    with (
        tqdm(total=len(runs), initial=len(complete), desc=experiment.name, unit="run", disable=not progress) as bar,
        (folder / LOG).open("a", encoding="utf-8") as log,
    ):
        log.write(f"{now()} sweep of {len(runs)} runs: {len(complete)} complete, {len(tasks)} to run "
                  f"({executor}, {workers} workers)\n")
        for report in EXECUTE[executor](tasks, min(workers, max(len(tasks), 1)), scheduler):
            if report.error is None:
                _write_run_files(folder / RUNS / run_folder_name(report.index), report.files or {})
            else:
                failed.append(report.index)
                log.write(f"{now()} run {report.index} failed:\n{report.error}\n")
            log.flush()
            bar.update()
        log.write(f"{now()} finished: {len(failed)} failed\n")
    written = write_summary(folder, experiment)
    if plots and experiment.plots:
        save_sweep_plots(folder / "plots", experiment, folder / SUMMARY, _run_series(folder, experiment))
    table = read_timeseries(folder / SUMMARY)
    if experiment.sampler in SENSITIVITY_SAMPLERS:
        write_sensitivity(folder, experiment, table, plots)
    tested = []
    if experiment.hypothesis is not None and written:
        tested = evaluate_hypothesis(experiment.hypothesis, table, experiment.paired)
        write_rows(folder / HYPOTHESES, tested)
    return SweepResult(folder, len(runs), written, sorted(failed), tested)


def _run_series(folder: Path, experiment: Experiment) -> Callable[[int], Iterable[Path]]:
    """For a point, the time-series files of its complete runs (read one point at a time)."""

    by_point: dict[int, list[int]] = {}
    for run in experiment.runs():  # derive the runs (and their seeds) once, not once per point
        by_point.setdefault(run.point, []).append(run.index)

    def files(point: int) -> Iterable[Path]:
        for index in by_point.get(point, []):
            path = folder / RUNS / run_folder_name(index) / TIMESERIES
            if path.exists():
                yield path

    return files
