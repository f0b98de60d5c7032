"""Hardening of sweeps and errors: one writer per folder, errors that cross process boundaries,
recommenders the workers cannot import, Dask clusters that lose every worker, no orphaned workers.

Every test bounds its own time (subprocesses run under ``timeout=``, waits have deadlines) and ends
every process it starts. The mutation each test catches is named in its docstring.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import pkgutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simsolidarity
from simsolidarity.errors import ExecutorError, SimsolidarityError
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender
from simsolidarity.running.experiment import experiment_from_dict
from simsolidarity.running.sweep import LOCK, run_sweep, sweep_lock

TINY = {"name": "tiny", "steps": 3, "model": {"n_people": 100, "width": 10, "height": 10, "n_virtual_groups": 5}}
SWEEP = [sys.executable, "-m", "simsolidarity", "sweep"]


#: A recommender that holds the runs at online_depth above 0.3 at their first step until a file
#: ``go`` appears beside it (runs at 0.2 go through): a test can act while a sweep is certainly
#: under way, with runs complete and runs in flight, however fast or slow the machine.
GATE = (
    "import time\nfrom pathlib import Path\nfrom simsolidarity import register_recommender\n"
    "GO = Path(__file__).with_name('go')\n"
    "@register_recommender('gated')\n"
    "def gated(model, people):\n"
    "    while model.steps > 0 and model.parameters['online_depth'] > 0.3 and not GO.exists():\n"
    "        time.sleep(0.05)\n"
    "    return model.rng.random((len(people), model.n_virtual_groups))\n"
)
#: Six runs: the first two pass the gate, the other four wait at it.
GATED = (
    "name: gated\nseed: 9\nreplicates: 2\nplots: none\noutcomes: [belonging, esteban_ray]\n"
    "sweep: {online_depth: [0.2, 0.4, 0.6]}\n"
    "scenario: {name: s, steps: 5, plugins: [gate], model: {n_people: 100, width: 10, height: 10, "
    "recommender: gated}}\n"
)


def gated_sweep(folder: Path) -> Path:
    """Write the gated experiment and its plugin into ``folder``; returns the experiment file."""
    (folder / "gate.py").write_text(GATE)
    path = folder / "gated.yaml"
    path.write_text(GATED)
    return path


def tiny_experiment(**changes):
    data = {"name": "exp", "scenario": TINY, "replicates": 2, "sweep": {"online_depth": [0.2, 0.6]},
            "outcomes": ["belonging"], "plots": "none", **changes}
    return experiment_from_dict(data, source="test.yaml")


def complete_runs(folder: Path) -> int:
    runs = folder / "runs"
    return sum(1 for p in runs.iterdir() if (p / "manifest.json").exists()) if runs.exists() else 0


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    """End a process started with start_new_session, and everything it started."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


# --- 1. one sweep at a time in a folder -------------------------------------------------------------


def test_a_second_sweep_into_a_live_folder_is_refused_and_the_first_completes(tmp_path):
    """Catches: no lock (or a lock not held for the sweep's life), and a start that removes the
    temporary run folders of a live sweep: the first sweep then reports empty runs, and resuming
    it fails with 'Directory not empty'."""
    path = gated_sweep(tmp_path)
    folder = tmp_path / "shared"
    command = [*SWEEP, str(path), "--out", str(folder), "--workers", "1", "--quiet"]
    first = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        wait_for(lambda: complete_runs(folder) >= 2 or first.poll() is not None, 120, "the first runs")
        second = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert second.returncode == 2, second.stderr
        assert f"another sweep (process {first.pid})" in second.stderr
        assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1
        (tmp_path / "go").touch()
        out, err = first.communicate(timeout=120)
    finally:
        (tmp_path / "go").touch()
        stop(first)
    assert first.returncode == 0, err
    assert "6 of 6 runs complete" in out
    assert complete_runs(folder) == 6 and not any(p.name.startswith(".") for p in (folder / "runs").iterdir())
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert resumed.returncode == 0 and "6 of 6 runs complete" in resumed.stdout, resumed.stderr
    clean = subprocess.run([*SWEEP, str(path), "--out", str(tmp_path / "clean"), "--workers", "2", "--quiet"],
                           capture_output=True, text=True, timeout=300, check=False)
    assert clean.returncode == 0, clean.stderr
    assert (folder / "summary.csv").read_bytes() == (tmp_path / "clean" / "summary.csv").read_bytes()


def test_a_locked_folder_keeps_its_temporary_run_folders(tmp_path):
    """Catches: a refused sweep that still cleans up, i.e. removes a live writer's half-written runs."""
    experiment = tiny_experiment()
    folder = tmp_path / "s"
    run_sweep(experiment, folder, workers=1, progress=False)
    in_flight = folder / "runs" / ".run-00009.partial-abc"
    in_flight.mkdir()
    with sweep_lock(folder), pytest.raises(SimsolidarityError, match=f"another sweep \\(process {os.getpid()}\\)"):
        run_sweep(experiment, folder, workers=1, progress=False)
    assert in_flight.exists()
    run_sweep(experiment, folder, workers=1, progress=False)  # the holder gone, the next sweep cleans up
    assert not in_flight.exists()


def test_the_lock_of_a_killed_sweep_is_released(tmp_path):
    """Catches: a lock that outlives its holder (a PID file checked by hand), which would leave a
    folder unresumable after a crash."""
    path = gated_sweep(tmp_path)
    folder = tmp_path / "killed"
    process = subprocess.Popen([*SWEEP, str(path), "--out", str(folder), "--workers", "1", "--quiet"],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: complete_runs(folder) >= 2, 120, "the first runs")
    finally:
        stop(process)
    assert (folder / LOCK).read_text().strip() == str(process.pid)
    (tmp_path / "go").touch()
    resumed = subprocess.run([*SWEEP, str(path), "--out", str(folder), "--workers", "1", "--quiet"],
                             capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0 and "6 of 6 runs complete" in resumed.stdout, resumed.stderr


def test_a_refused_sweep_leaves_no_folder_behind(tmp_path):
    """Catches: a lock or record written before the sweep knows it can run (here: a recommender
    the workers cannot import, refused after the lock is taken)."""
    register_recommender("only_here")(lambda model, people: RECOMMENDERS["random"](model, people))
    try:
        with pytest.raises(SimsolidarityError, match="only_here"):
            run_sweep(tiny_experiment(sweep={"recommender": ["random", "only_here"]}), tmp_path / "new", workers=2,
                      progress=False)
    finally:
        del RECOMMENDERS["only_here"]
    assert not (tmp_path / "new").exists()


# --- 3. recommenders the worker processes cannot import ------------------------------------------


def test_a_recommender_registered_here_is_refused_before_a_parallel_sweep_and_runs_with_one_worker(tmp_path):
    """Catches: starting the runs anyway, every one failing in a worker with the failures only in
    sweep.log; and refusing it with one worker, where it runs in this process."""

    @register_recommender("notebook_contrarian")
    def contrarian(model, people):
        return -model.opinion_similarity(people)

    try:
        experiment = tiny_experiment(sweep={"recommender": ["random", "notebook_contrarian"]})
        with pytest.raises(SimsolidarityError) as caught:
            run_sweep(experiment, tmp_path / "parallel", workers=2, progress=False)
        message = str(caught.value)
        assert "'notebook_contrarian'" in message and "plugins:" in message and "--workers 1" in message
        assert __name__ in message  # the module that registered it
        result = run_sweep(experiment, tmp_path / "serial", workers=1, progress=False)
        assert result.complete == 4 and not result.failed
    finally:
        del RECOMMENDERS["notebook_contrarian"]


def test_a_recommender_from_a_named_plugin_runs_in_parallel(tmp_path):
    """Catches: a check so strict that it refuses recommenders the workers do import."""
    (tmp_path / "contrarian_plugin.py").write_text(
        "from simsolidarity import register_recommender\n"
        "@register_recommender('plugin_contrarian_h')\n"
        "def contrarian(model, people):\n"
        "    return -model.opinion_similarity(people)\n"
    )
    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: e\nreplicates: 2\nplots: none\noutcomes: [belonging]\n"
        "sweep: {recommender: [random, plugin_contrarian_h]}\n"
        "scenario: {name: s, steps: 3, plugins: [contrarian_plugin], model: {n_people: 100, width: 10, height: 10}}\n"
    )
    try:
        done = subprocess.run([*SWEEP, str(path), "--out", str(tmp_path / "o"), "--workers", "2", "--quiet"],
                              capture_output=True, text=True, timeout=180, check=False)
    finally:
        RECOMMENDERS.pop("plugin_contrarian_h", None)
    assert done.returncode == 0, done.stderr
    assert "4 of 4 runs complete" in done.stdout


def test_a_sweep_whose_every_run_fails_raises_with_the_first_error(tmp_path):
    """Catches: a sweep call that returns normally when nothing ran, the errors only in a log."""
    (tmp_path / "always_fails.py").write_text(
        "from simsolidarity import register_recommender\n"
        "@register_recommender('always_fails_h')\n"
        "def fails(model, people):\n"
        "    if model.steps > 0:  # passes a check of the recommender on a new model, fails in every run\n"
        "        raise RuntimeError('this recommender always fails')\n"
        "    return model.rng.random((len(people), model.n_virtual_groups))\n"
    )
    data = {"name": "e", "replicates": 1, "plots": "none", "outcomes": ["belonging"],
            "sweep": {"online_depth": [0.2, 0.4]},
            "scenario": {"name": "s", "steps": 2, "plugins": ["always_fails"],
                         "model": {"n_people": 100, "width": 10, "height": 10, "recommender": "always_fails_h"}}}
    try:
        experiment = experiment_from_dict(data, source=str(tmp_path / "e.yaml"), folder=tmp_path)
        with pytest.raises(ExecutorError, match="all 2 runs failed.*this recommender always fails"):
            run_sweep(experiment, tmp_path / "o", workers=1, progress=False)
    finally:
        RECOMMENDERS.pop("always_fails_h", None)


# --- 4. errors cross process boundaries ------------------------------------------------------------


def _every_error_class() -> list[type[SimsolidarityError]]:
    """Every subclass of the package's base error, found by importing every module of the package."""
    for module in pkgutil.walk_packages(simsolidarity.__path__, "simsolidarity."):
        if not module.name.endswith("__main__"):  # the command line itself, which would run
            importlib.import_module(module.name)
    found, todo = [], [SimsolidarityError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return sorted(set(found), key=lambda k: k.__qualname__)


#: Errors whose constructor needs more than texts: an example of each.
STRUCTURED = {"RunsFailedError": lambda kind: kind("results/e", {2: "RuntimeError: gave up", 3: "ValueError"}, 4)}


def _example(kind: type[SimsolidarityError]) -> SimsolidarityError:
    """An instance built from its constructor's signature, every argument a text (or a known example)."""
    import inspect

    if kind.__name__ in STRUCTURED:
        return STRUCTURED[kind.__name__](kind)
    try:
        signature = inspect.signature(kind)
    except ValueError:  # Exception's own constructor: it takes the message
        return kind("a message")
    parameters = [p for p in signature.parameters.values()
                  if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]
    args = [f"{p.name}-value" for p in parameters if p.kind is not p.VAR_POSITIONAL] or ["a message"]
    return kind(*args)


def test_every_error_class_is_found():
    """Catches: a discovery that misses the classes this suite most needs to check."""
    names = {kind.__name__ for kind in _every_error_class()}
    assert {"SimsolidarityError", "ParameterError", "ScenarioError", "RecommenderError", "CapacityError",
            "ExecutorError"} <= names


def _round_trip(error: BaseException) -> BaseException:
    """``error`` pickled and unpickled as a fresh worker process would, ignoring the reducers other
    libraries register process-wide (Dask installs tblib's for every exception class)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer)
    pickler.dispatch_table = {}
    pickler.dump(error)
    return pickle.loads(buffer.getvalue())


@pytest.mark.parametrize("kind", _every_error_class(), ids=lambda kind: kind.__name__)
def test_every_error_survives_a_pickle_round_trip(kind):
    """Catches: an error class whose constructor takes other arguments than Exception keeps (as
    ParameterError's did), which cannot be unpickled, so a pool carrying it back hangs or breaks."""
    error = _example(kind)
    copy = _round_trip(error)
    assert type(copy) is kind and str(copy) == str(error) and copy.__dict__ == error.__dict__


def test_batch_run_with_two_processes_raises_a_bad_parameter_within_seconds():
    """Catches: ParameterError failing to unpickle in mesa.batch_run's pool, which hangs forever."""
    script = (
        "import mesa\n"
        "from simsolidarity import ParameterError, SolidarityModel\n"
        "if __name__ == '__main__':\n"
        "    try:\n"
        "        mesa.batch_run(SolidarityModel, parameters={'online_depth': [0.5, 1.5], 'n_people': 100,\n"
        "                       'width': 10, 'height': 10}, rng=[1], max_steps=3, number_processes=2,\n"
        "                       display_progress=False)\n"
        "    except ParameterError as error:\n"
        "        print('raised:', error)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90, check=False)
    assert "raised: online_depth = 1.5: expected a number in [0, 1]" in done.stdout, done.stderr[-2000:]


# --- 6. a Dask cluster that loses every worker -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("lost", ["every worker", "the scheduler", "no worker from the start"])
def test_a_dask_sweep_that_loses_its_cluster_stops_in_bounded_time_and_resumes(tmp_path, lost):
    """Catches: waiting forever on a cluster with no worker (or no scheduler), a multi-line or
    traceback message, a stop that spoils the folder or leaves one behind when nothing ran, and a
    plugin that a Dask worker (a process of its own) cannot find beside the experiment file."""
    pytest.importorskip("dask.distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", address.rsplit(":", 1)[1], "--no-dashboard"], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    if lost != "no worker from the start":
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
                                   "--nthreads", "1", "--no-dashboard"], start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = gated_sweep(tmp_path)
    folder = tmp_path / "dask"
    sweep = None
    try:
        wait_for(lambda: _listening(address), 60, "the scheduler")
        sweep = subprocess.Popen([*SWEEP, str(path), "--out", str(folder), "--executor", "dask", "--scheduler",
                                  address, "--worker-timeout", "3", "--quiet"], start_new_session=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if worker is not None:
            wait_for(lambda: complete_runs(folder) >= 2 or sweep.poll() is not None, 120, "the first runs on Dask")
            stop(worker if lost == "every worker" else scheduler)
        lost_at = time.monotonic()
        _, err = sweep.communicate(timeout=90)
        assert time.monotonic() - lost_at < 45
    finally:
        for process in (sweep, worker, scheduler):
            if process is not None:
                stop(process)
    assert sweep.returncode == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    if lost == "no worker from the start":
        assert "no worker for 3 s" in err and not folder.exists()
        return
    assert ("no worker for 3 s" if lost == "every worker" else "Dask cluster stopped") in err
    assert "to resume" in err and not (folder / "summary.csv").exists()
    (tmp_path / "go").touch()
    resumed = subprocess.run([*SWEEP, str(path), "--out", str(folder), "--workers", "2", "--quiet"],
                             capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0 and "6 of 6 runs complete" in resumed.stdout, resumed.stderr


def _listening(address: str) -> bool:
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


# --- 7. no orphans ----------------------------------------------------------------------------------


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("executor, sig, moment", [
    ("local", signal.SIGKILL, "mid-run"),
    ("local", signal.SIGTERM, "mid-run"),
    ("local", signal.SIGKILL, "as workers start"),
    ("dask", signal.SIGKILL, "mid-run"),
])
def test_the_workers_of_a_killed_sweep_exit_promptly(tmp_path, executor, sig, moment):
    """Catches: worker processes (and the fork server and resource tracker) that keep computing
    runs for tens of seconds after the sweep that would collect them was killed."""
    if executor == "dask":
        pytest.importorskip("dask.distributed")
    path = gated_sweep(tmp_path)
    process = subprocess.Popen([*SWEEP, str(path), "--out", str(tmp_path / "o"), "--workers", "2",
                                "--executor", executor, "--quiet"],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started: set[int] = set()
    try:
        wait_for(lambda: len(_descendants(process.pid)) >= (1 if moment == "as workers start" else 3), 120,
                 "the worker processes")
        if moment == "mid-run":  # the first runs done, the next ones held at the gate
            wait_for(lambda: complete_runs(tmp_path / "o") >= 2, 120, "the first runs")
        started = _descendants(process.pid)
        os.kill(process.pid, sig)  # the sweep alone, as the OOM killer would
        process.wait(timeout=30)
        time.sleep(0.5)
        started |= _descendants(process.pid)  # any started after the first look
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(pid for pid in started if _running(pid))
        assert not left, f"still running 15 s after the sweep was killed: {left}"
    finally:
        for pid in _descendants(process.pid) | started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop(process)


# --- 2. a pool whose models together do not fit ---------------------------------------------------


def test_workers_whose_models_together_do_not_fit_are_refused_before_anything_is_written(tmp_path, monkeypatch):
    """Catches: a memory check of one model only, which lets N workers exhaust memory together."""
    from simsolidarity.errors import CapacityError
    from simsolidarity.model.memory import estimate_memory
    from simsolidarity.running import sweep

    experiment = tiny_experiment()
    one = estimate_memory({**experiment.scenario.model, "online_depth": 0.6}, experiment.scenario.steps, 1)
    monkeypatch.setattr(sweep, "available_memory", lambda: int(2.5 * one))
    with pytest.raises(CapacityError, match="use --workers 2 or fewer"):
        run_sweep(experiment, tmp_path / "three", workers=3, progress=False)
    assert not (tmp_path / "three").exists()
    assert run_sweep(experiment, tmp_path / "two", workers=2, progress=False).complete == 4


class _ThreeArguments(ValueError):
    """An error shaped like ParameterError, pickled as Exception pickles it: by its message alone."""

    def __init__(self, name, value, expected):
        self.name = name
        super().__init__(f"{name} = {value}: expected {expected}")


class _ThreeArgumentsReduced(_ThreeArguments):
    __reduce__ = SimsolidarityError.__reduce__


def test_the_round_trip_fails_without_the_base_class_reduce_and_holds_with_it():
    """Mutation check of the round-trip test: without SimsolidarityError.__reduce__ an error with
    such a constructor cannot be unpickled (what hung batch_run); with it, it can."""
    error = _ThreeArguments("online_depth", 1.5, "a number in [0, 1]")
    with pytest.raises(TypeError):
        _round_trip(error)
    fixed = _round_trip(_ThreeArgumentsReduced("online_depth", 1.5, "a number in [0, 1]"))
    assert str(fixed) == str(error) and fixed.name == "online_depth"
