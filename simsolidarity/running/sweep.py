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
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from time import perf_counter
from typing import Any

from tqdm import tqdm

from simsolidarity.errors import CapacityError, ExecutorError, SimsolidarityError, shown
from simsolidarity.running.experiment import SENSITIVITY_SAMPLERS, Experiment, Run
from simsolidarity.analysis.hypotheses import evaluate_hypothesis
from simsolidarity.model.model import available_memory, human_bytes
from simsolidarity.analysis.plots import save_sweep_plots
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.folders import (
    atomic_folder,
    check_writable,
    json_data,
    new_run_folder,
    now,
    read_json,
    read_timeseries,
    safe_name,
    write_json,
    write_rows,
    write_timeseries,
)
from simsolidarity.running.run import MANIFEST, TIMESERIES, simulate, write_run
from simsolidarity.running.scenario import Scenario, import_plugins
from simsolidarity.analysis.sensitivity import write_sensitivity

EXPERIMENT_FILE = "experiment.json"
SUMMARY = "summary.csv"
LOG = "sweep.log"
HYPOTHESES = "hypotheses.csv"
RUNS = "runs"
EXECUTORS = ("local", "dask")
#: The lock file of a sweep folder; it holds the process id of the sweep writing in the folder.
LOCK = ".lock"
#: Seconds a Dask sweep waits while its cluster has no worker before it stops (``--worker-timeout``).
DASK_NO_WORKER_TIMEOUT = 60.0
#: Seconds between two looks at the Dask cluster while no run finishes.
DASK_POLL = 1.0


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
    """A finished sweep: its folder, how many runs it has in all, how many are complete, which failed.

    ``errors`` maps each run that failed in this call to its error's last line (the whole
    traceback is in ``sweep.log``).
    """

    folder: Path
    total: int
    complete: int
    failed: list[int]
    hypotheses: list[dict[str, Any]]
    errors: dict[int, str] = field(default_factory=dict)


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


# --- executors: each runs tasks where it puts them and yields reports as runs finish -------------


class InProcess:
    """One worker: every run in the calling process, one after the other."""

    workers = 1

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` where the runs would run: here."""
        return function(*args)

    def reports(self, tasks: list[RunTask]) -> Iterator[RunReport]:
        for task in tasks:
            yield compute_run(task)


def _exit_with_parent(lifeline: Connection) -> None:
    """Worker initializer: end this process as soon as the sweep's process ends, however it ends.

    The sweep holds the sending end of ``lifeline`` and never sends; when it dies (even by
    SIGKILL) the kernel closes that end, the read below returns EOF, and the worker exits instead
    of computing runs nobody will collect (its pool's fork server and resource tracker then end too).
    """

    def watch() -> None:
        try:
            lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="simsolidarity-lifeline", daemon=True).start()


class LocalProcesses:
    """A pool of worker processes on this machine, which exit when the sweep's process does."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self) -> LocalProcesses:
        # An explicit context, never the process-wide default, so that a sweep behaves the same from a
        # script, from Jupyter, and after mesa.batch_run has set the default to 'spawn'. Where it exists,
        # 'forkserver' starts workers from a clean server that has already imported the model (fast
        # and thread-safe); elsewhere 'spawn'.
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["simsolidarity.running.sweep"])
        else:
            context = multiprocessing.get_context("spawn")
        # Workers start when runs are submitted, each taking a copy of the receiving end.
        self._receiving, self._lifeline = context.Pipe(duplex=False)
        self._pool = futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_exit_with_parent, initargs=(self._receiving,)
        )
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        # On an error or Ctrl-C, runs not yet started are dropped rather than computed for nothing.
        self._pool.shutdown(wait=True, cancel_futures=kind is not None)
        self._lifeline.close()
        self._receiving.close()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a worker process."""
        try:
            return self._pool.submit(function, *args).result()
        except BrokenProcessPool as error:
            raise ExecutorError(f"the worker processes could not start ({error})") from None

    def reports(self, tasks: list[RunTask]) -> Iterator[RunReport]:
        def first(pending: set) -> tuple[set, set]:
            return futures.wait(pending, return_when=futures.FIRST_COMPLETED)

        yield from _bounded(tasks, self.workers, lambda task: self._pool.submit(compute_run, task), first)


class DaskCluster:
    """Runs on a Dask cluster: the one at ``scheduler``, or a local one started for the sweep.

    A sweep whose cluster has had no worker for ``no_worker_timeout`` seconds (all of them died or
    were stopped) stops with :class:`ExecutorError`; its folder keeps every finished run, to resume.
    """

    def __init__(self, workers: int, scheduler: str | None, no_worker_timeout: float) -> None:
        self.workers, self.scheduler, self.no_worker_timeout = workers, scheduler, no_worker_timeout

    def __enter__(self) -> DaskCluster:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SimsolidarityError(
                "the dask executor needs Dask distributed: pip install -e '.[distributed]'"
            ) from None
        with contextlib.ExitStack() as stack:
            # A client that loses its scheduler logs each failed reconnection with a traceback; the
            # sweep says what happened itself, in one line.
            stack.enter_context(_silenced("distributed.client"))
            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout="10s")
                except (OSError, TimeoutError, ValueError) as error:
                    raise SimsolidarityError(f"--scheduler {self.scheduler}: cannot connect ({error})") from None
            else:
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
                stack.callback(cluster.close)
                self._client = Client(cluster)
            stack.callback(self._client.close)
            self._resources = stack.pop_all()  # closed in __exit__: the client, the cluster, the logger
        return self

    def __exit__(self, *exc: object) -> None:
        self._resources.close()

    def _submit(self, function: Callable[..., Any], *args: Any) -> Any:
        # pure=False: every submission is computed, never served from Dask's cache of equal calls.
        return self._client.submit(function, *args, pure=False)

    def _has_workers(self) -> bool:
        if self._client.status != "running":
            return False
        try:
            return bool(self._client.scheduler_info()["workers"])
        except Exception:  # noqa: BLE001 - a scheduler that cannot answer has no worker for us
            return False

    def _first(self, pending: set) -> tuple[set, set]:
        """Wait for the first of ``pending`` to finish, checking every second that the cluster has workers."""
        from dask.distributed import wait

        without_workers: float | None = None
        while True:
            try:
                done = set(wait(list(pending), timeout=DASK_POLL, return_when="FIRST_COMPLETED").done)
            except TimeoutError:
                done = set()
            except Exception as error:  # noqa: BLE001 - e.g. runs cancelled because the scheduler went away
                said = " ".join(str(error).split())  # Dask's messages run over many lines
                raise ExecutorError(f"the Dask cluster stopped the sweep's runs ({type(error).__name__}: "
                                    f"{said.split('. ')[0][:200]})") from None
            if done:
                return done, pending - done
            if self._has_workers():
                without_workers = None
            elif without_workers is None:
                without_workers = perf_counter()
            elif perf_counter() - without_workers > self.no_worker_timeout:
                raise ExecutorError(
                    f"the Dask cluster has had no worker for {self.no_worker_timeout:g} s "
                    f"(--worker-timeout); every worker is gone"
                )

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` on a worker of the cluster."""
        future = self._submit(function, *args)
        self._first({future})
        return future.result()

    def reports(self, tasks: list[RunTask]) -> Iterator[RunReport]:
        yield from _bounded(tasks, self.workers, lambda task: self._submit(compute_run, task), self._first)


@contextlib.contextmanager
def _silenced(logger: str) -> Iterator[None]:
    """Only critical messages from ``logger`` for the block."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _bounded(
    tasks: list[RunTask], workers: int, submit: Callable[[RunTask], Any], wait_first: Callable[[set], tuple[set, set]]
) -> Iterator[RunReport]:
    """Keep at most two runs per worker in flight, so memory stays flat in the number of runs.

    A run whose future fails instead of returning its report (its worker was killed mid-run, its
    result could not be sent back) is reported as failed with that error; a pool whose processes
    died stops the sweep with :class:`ExecutorError`.
    """
    queue = iter(tasks)
    in_flight: dict[Any, RunTask] = {}
    for task in queue:
        in_flight[submit(task)] = task
        if len(in_flight) >= 2 * workers:
            break
    while in_flight:
        done, _ = wait_first(set(in_flight))
        for future in done:
            task = in_flight.pop(future)
            try:
                report = future.result()
            except BrokenProcessPool:
                raise ExecutorError(
                    "a worker process died during a run (killed by the system, perhaps for lack of memory)"
                ) from None
            except Exception as error:  # noqa: BLE001 - recorded as this run's failure; the sweep goes on
                report = RunReport(task.run.index, None, f"{type(error).__name__}: {error}")
            yield report
            following = next(queue, None)
            if following is not None:
                in_flight[submit(following)] = following


def open_executor(
    executor: str, workers: int, scheduler: str | None, no_worker_timeout: float
) -> InProcess | LocalProcesses | DaskCluster:
    """The executor of that name, to be entered with ``with``: connecting or starting it writes nothing."""
    if executor == "dask":
        return DaskCluster(workers, scheduler, no_worker_timeout)
    return InProcess() if workers == 1 else LocalProcesses(workers)


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


def _check_workers_know(pool: LocalProcesses | DaskCluster, experiment: Experiment) -> None:
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


def _complete_runs(folder: Path) -> set[int]:
    """The indices of the complete run folders (those with a manifest) in a sweep folder."""
    runs = folder / RUNS
    if not runs.exists():
        return set()
    return {int(entry.name.removeprefix("run-")) for entry in runs.iterdir()
            if not entry.name.startswith(".") and (entry / MANIFEST).exists()}


def _prepare_folder(folder: Path, experiment: Experiment) -> None:
    """Record the experiment in its (locked) folder, or check the record; remove stale temporaries.

    Only the lock's holder calls this, so every temporary run folder found here was left by a
    sweep that stopped, never by one still writing.
    """
    if (folder / EXPERIMENT_FILE).exists():
        _check_record(folder, experiment)  # again, now under the lock
    else:
        write_json(folder / EXPERIMENT_FILE, experiment.to_dict())
    runs = folder / RUNS
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
    plots: bool = True,
    no_worker_timeout: float = DASK_NO_WORKER_TIMEOUT,
) -> SweepResult:
    """Run every run of ``experiment`` not yet complete in ``folder``; write summary and plots.

    Args:
        experiment: the validated experiment.
        folder: the sweep folder; created if new, resumed if it holds this experiment. It is
            locked while the sweep runs: a second sweep into it is refused.
        workers: parallel workers, 1 or more (default: the CPU count); 1 runs in this process.
        executor: ``local`` (processes on this machine) or ``dask``.
        scheduler: a Dask scheduler address such as ``tcp://host:8786``; without it, ``dask``
            starts a local cluster.
        progress: show a progress bar over runs.
        plots: draw the sweep's plots at the end.
        no_worker_timeout: seconds a Dask sweep waits while its cluster has no worker before it
            stops with :class:`ExecutorError` (the folder stays resumable).

    Raises:
        SimsolidarityError: before anything is written, for a bad argument, a folder that is
            locked, is a file or holds another experiment, an unreachable scheduler, or a
            recommender that worker processes cannot import.
        ExecutorError: when the executor fails during the sweep (the folder stays resumable), and
            when every run failed.
    """
    if executor not in EXECUTORS:
        raise SimsolidarityError(f"--executor {shown(executor)}: expected one of {', '.join(EXECUTORS)}")
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SimsolidarityError(f"--workers {shown(workers)}: expected a whole number of workers, 1 or more")
    _check_folder(folder, experiment)
    with sweep_lock(folder):
        runs = experiment.runs()
        complete = _complete_runs(folder)  # the lock's holder alone adds to them
        pending = max(len(runs) - len(complete), 1)
        if executor == "local":
            _check_parallel_memory(experiment, min(workers, pending))
        with open_executor(executor, min(workers, pending), scheduler, no_worker_timeout) as pool:
            if not isinstance(pool, InProcess):
                _check_workers_know(pool, experiment)
            _prepare_folder(folder, experiment)
            tasks = [RunTask(r, experiment.scenario_for(r), experiment.final_window)
                     for r in runs if r.index not in complete]
            failed = _run_tasks(folder, experiment, pool, tasks, len(runs), len(complete), executor, progress)
        written = write_summary(folder, experiment)
        if tasks and len(failed) == len(tasks):
            first = failed[min(failed)]
            raise ExecutorError(
                f"all {len(tasks)} runs failed; the first, run {min(failed)}: {first}; see {folder / LOG}"
            )
        if plots and experiment.plots:
            save_sweep_plots(folder / "plots", experiment, folder / SUMMARY, _run_series(folder, experiment))
        table = read_timeseries(folder / SUMMARY)
        if experiment.sampler in SENSITIVITY_SAMPLERS:
            write_sensitivity(folder, experiment, table, plots)
        tested = []
        if experiment.hypothesis is not None and written:
            tested = evaluate_hypothesis(experiment.hypothesis, table, experiment.paired)
            write_rows(folder / HYPOTHESES, tested)
    return SweepResult(folder, len(runs), written, sorted(failed), tested, failed)


def _run_tasks(
    folder: Path, experiment: Experiment, pool: InProcess | LocalProcesses | DaskCluster, tasks: list[RunTask],
    total: int, complete: int, executor: str, progress: bool,
) -> dict[int, str]:
    """Run the tasks on the pool, writing each finished run at once; returns the failures by run index."""
    failed: dict[int, str] = {}
    written = 0
    with (
        tqdm(total=total, initial=complete, desc=experiment.name, unit="run", disable=not progress) as bar,
        (folder / LOG).open("a", encoding="utf-8") as log,
    ):
        log.write(f"{now()} sweep of {total} runs: {complete} complete, {len(tasks)} to run "
                  f"({executor}, {pool.workers} workers)\n")
        log.flush()
        try:
            for report in pool.reports(tasks):
                if report.error is None:
                    _write_run_files(folder / RUNS / run_folder_name(report.index), report.files or {})
                    written += 1
                else:
                    failed[report.index] = _last_line(report.error)
                    log.write(f"{now()} run {report.index} failed:\n{report.error}\n")
                log.flush()
                bar.update()
        except ExecutorError as error:
            done = complete + written
            log.write(f"{now()} stopped: {error}\n")
            raise ExecutorError(f"{error}; {done} of {total} runs are complete in {folder}: run the same "
                                "sweep again with this --out to resume") from None
        log.write(f"{now()} finished: {len(failed)} failed\n")
    return failed


def _last_line(error: str) -> str:
    """The last non-empty line of a traceback: the exception and its message."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else error


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
