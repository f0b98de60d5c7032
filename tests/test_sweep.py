"""Experiments and sweeps: expansion, validation, determinism, crash safety, failures, comparison."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from simsolidarity import PARAMETERS, sweep
from simsolidarity.cli import main
from simsolidarity.running.experiment import experiment_from_dict
from simsolidarity.running.folders import read_json, read_table
from simsolidarity.running.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
TINY = {"name": "tiny", "steps": 4, "model": {"n_people": 120, "width": 12, "height": 12, "n_virtual_groups": 6}}


def experiment(**changes):
    data = {"name": "exp", "scenario": TINY, "replicates": 2, "sweep": {"recommender": ["random", "similarity"]},
            "outcomes": ["esteban_ray", "belonging"], **changes}
    return experiment_from_dict(data, source="test.yaml")


def write_experiment(folder: Path, text: str) -> Path:
    (folder / "tiny.yaml").write_text(
        "name: tiny\nsteps: 4\nmodel: {n_people: 120, width: 12, height: 12, n_virtual_groups: 6}\n"
    )
    path = folder / "exp.yaml"
    path.write_text(text)
    return path


# --- expansion -------------------------------------------------------------------------------------


def test_grid_is_the_product_and_ranges_expand():
    e = experiment(sweep={"recommender": ["random", "similarity"], "online_depth": {"start": 0, "stop": 1, "num": 3}})
    assert e.points == (
        {"recommender": "random", "online_depth": 0.0}, {"recommender": "random", "online_depth": 0.5},
        {"recommender": "random", "online_depth": 1.0}, {"recommender": "similarity", "online_depth": 0.0},
        {"recommender": "similarity", "online_depth": 0.5}, {"recommender": "similarity", "online_depth": 1.0},
    )
    assert len(e.runs()) == 12 and [r.index for r in e.runs()] == list(range(12))


def test_integer_ranges_round_and_drop_repeats():
    e = experiment(sweep={"max_memberships": {"start": 1, "stop": 3, "num": 5}})
    assert [p["max_memberships"] for p in e.points] == [1, 2, 3]


def test_zip_pairs_lists():
    e = experiment(sampler="zip", sweep={"online_share": [0.2, 0.8], "online_depth": [0.1, 0.9]})
    assert e.points == ({"online_share": 0.2, "online_depth": 0.1}, {"online_share": 0.8, "online_depth": 0.9})


def test_lhs_fills_each_stratum_once_and_is_reproducible():
    sweep = {"online_share": {"start": 0.0, "stop": 1.0}, "confidence": {"start": 0.1, "stop": 0.9},
             "recommender": ["random", "similarity"]}
    e = experiment(sampler="lhs", samples=10, sweep=sweep, seed=5)
    shares = sorted(p["online_share"] for p in e.points)
    assert [int(s * 10) for s in shares] == list(range(10))  # one sample in each tenth of the range
    assert all(0.1 <= p["confidence"] <= 0.9 for p in e.points)
    assert {p["recommender"] for p in e.points} == {"random", "similarity"}
    assert experiment(sampler="lhs", samples=10, sweep=sweep, seed=5).points == e.points
    assert experiment(sampler="lhs", samples=10, sweep=sweep, seed=6).points != e.points


def test_seeds_derive_from_the_root_and_pair_replicates_across_points():
    paired = experiment(seed=11).runs()
    assert paired[0].seed == paired[2].seed and paired[0].seed != paired[1].seed  # replicate 0 at both points
    unpaired = experiment(seed=11, paired=False).runs()
    assert len({r.seed for r in unpaired}) == len(unpaired)
    assert [r.seed for r in experiment(seed=11).runs()] == [r.seed for r in paired]
    assert [r.seed for r in experiment(seed=12).runs()] != [r.seed for r in paired]


@pytest.mark.parametrize(
    "changes, key, fragment",
    [
        ({"sweep": {"online_dept": [0.1]}}, "sweep.online_dept", "did you mean 'online_depth'"),
        ({"sweep": {"online_depth": [0.1, 1.5]}}, "sweep.online_depth[1]", "[0, 1]"),
        ({"sweep": {"recommender": ["random", "oracle"]}}, "sweep.recommender[1]", "registered recommenders"),
        ({"sampler": "zip", "sweep": {"online_share": [0.1, 0.2], "online_depth": [0.3]}}, "sweep", "equal length"),
        ({"sampler": "lhs", "sweep": {"online_share": {"start": 0, "stop": 1}}}, "samples", "integer"),
        ({"sampler": "sobolev"}, "sampler", "unknown sampler"),
        ({"replicates": 0}, "replicates", ">= 1"),
        ({"sweep": {"online_depth": {"start": 0, "stop": 1}}}, "sweep.online_depth.num", "integer"),
        ({"sweep": {"n_people": [100, 500]}}, "sweep (point 1", "one person per cell"),
        ({"repliactes": 3}, "repliactes", "did you mean 'replicates'"),
        ({"scenario": {"name": "x", "model": {"confidence": 5}}}, "model.confidence", "(0, 2]"),
        ({"outcomes": ["belongin"]}, "outcomes[0]", "did you mean 'belonging'"),
    ],
)
def test_bad_experiments_name_the_key(changes, key, fragment):
    with pytest.raises(ScenarioError) as caught:
        experiment(**changes)
    assert key in str(caught.value) and fragment in str(caught.value), str(caught.value)


def test_bad_experiment_files_exit_2_and_write_nothing(tmp_path, capsys):
    path = write_experiment(tmp_path, "name: e\nscenario: tiny.yaml\nsweep: {homophly: [0.1]}\n")
    assert main(["sweep", str(path), "--results", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "exp.yaml: sweep.homophly" in err and "homophily" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
    path.write_text("name: e\nscenario: missing.yaml\nsweep: {homophily: [0.1]}\n")
    assert main(["validate", str(path)]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err


def test_the_ready_experiment_validates(capsys):
    assert main(["validate", str(ROOT / "experiments" / "recommenders.yaml")]) == 0
    assert "experiment 'recommenders', 60 runs" in capsys.readouterr().out


# --- running ---------------------------------------------------------------------------------------


def test_summary_is_identical_for_1_and_2_workers(tmp_path):
    e = experiment(seed=3)
    one = sweep(e, out=tmp_path / "one", workers=1, progress=False, plots=False)
    two = sweep(e, out=tmp_path / "two", workers=2, progress=False, plots=False)
    assert one.complete == two.complete == 4 and one.failed.empty and two.failed.empty
    assert (tmp_path / "one" / "summary.csv").read_bytes() == (tmp_path / "two" / "summary.csv").read_bytes()
    for run in ("run-00000", "run-00003"):
        a = (tmp_path / "one" / "runs" / run / "timeseries.csv").read_bytes()
        assert a == (tmp_path / "two" / "runs" / run / "timeseries.csv").read_bytes()


def test_a_sweep_without_workers_uses_the_cores_this_process_may_use(tmp_path, monkeypatch):
    """Catches: the default number of workers taken from os.cpu_count(), which counts a container's or a task
    set's host, not the cores this process may run on (here 2 cores, of which one is allowed)."""
    from simsolidarity.running.executors import usable_cores

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5})
    assert usable_cores() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1})
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    sweep(experiment(seed=3), out=tmp_path / "s", progress=False, plots=False)
    assert "(local, 1 workers)" in (tmp_path / "s" / "sweep.log").read_text()


def test_summary_is_identical_on_a_dask_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    e = experiment(seed=3)
    sweep(e, out=tmp_path / "local", workers=1, progress=False, plots=False)
    dask = sweep(e, out=tmp_path / "dask", workers=2, executor="dask", progress=False, plots=False)
    assert dask.complete == 4
    assert (tmp_path / "local" / "summary.csv").read_bytes() == (tmp_path / "dask" / "summary.csv").read_bytes()


def test_summary_holds_swept_values_and_final_window_means(tmp_path):
    e = experiment(seed=4, final_window=3)
    sweep(e, out=tmp_path / "s", workers=1, progress=False, plots=True)
    table = read_table(tmp_path / "s" / "summary.csv")
    # every parameter of each run, not only the swept one, then the outcomes
    assert list(table) == ["run", "point", "replicate", "seed", *PARAMETERS, "esteban_ray", "belonging"]
    assert table["recommender"].tolist() == ["random", "random", "similarity", "similarity"]
    assert table["n_people"].tolist() == [120] * 4
    series = read_table(tmp_path / "s" / "runs" / "run-00002" / "timeseries.csv")
    assert table["belonging"][2] == pytest.approx(sum(series["belonging"][-3:]) / 3)
    assert read_json(tmp_path / "s" / "experiment.json")["points"] == [{"recommender": "random"},
                                                                        {"recommender": "similarity"}]
    plots = {p.name for p in (tmp_path / "s" / "plots").iterdir()}
    assert {"belonging.png", "belonging_timeseries.png", "esteban_ray.png", "esteban_ray_timeseries.png"} == plots


SLOW_SWEEP = (
    "name: slow\nscenario: tiny.yaml\nsteps: 25\nseed: 9\nreplicates: 4\n"
    "sweep: {online_depth: {start: 0.1, stop: 0.9, num: 5}}\noutcomes: [belonging, esteban_ray]\nplots: none\n"
)


def test_a_sweep_killed_partway_resumes_to_the_same_summary(tmp_path):
    path = write_experiment(tmp_path, SLOW_SWEEP)
    command = [sys.executable, "-m", "simsolidarity", "sweep", str(path), "--workers", "1", "--quiet"]
    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, "--out", str(killed)], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = killed / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if runs.exists() and sum(1 for p in runs.iterdir() if not p.name.startswith(".")) >= 3:
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    complete = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert 3 <= len(complete) < 20, "the sweep must be stopped partway for this test to mean anything"
    assert not (killed / "summary.csv").exists()
    # A run folder left half-written by the kill is never read: make one, with garbage inside.
    (runs / ".run-00019.partial-x").mkdir()
    (runs / ".run-00019.partial-x" / "manifest.json").write_text("{not json")
    resumed = subprocess.run([*command, "--out", str(killed)], capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert "20 of 20 runs complete" in resumed.stdout
    whole = subprocess.run([*command, "--out", str(tmp_path / "whole")], capture_output=True, text=True, timeout=300,
                           check=False)
    assert whole.returncode == 0
    assert (killed / "summary.csv").read_bytes() == (tmp_path / "whole" / "summary.csv").read_bytes()
    assert not any(p.name.startswith(".") for p in runs.iterdir())


def test_resume_flag_continues_the_latest_sweep_and_refuses_another_experiment(tmp_path, capsys):
    path = write_experiment(tmp_path, SLOW_SWEEP.replace("steps: 25", "steps: 2").replace("replicates: 4", "replicates: 1"))
    results = tmp_path / "results"
    assert main(["sweep", str(path), "--results", str(results), "--workers", "1", "--quiet"]) == 0
    (folder,) = (results / "slow").iterdir()
    capsys.readouterr()
    assert main(["sweep", str(path), "--results", str(results), "--resume", "--workers", "1", "--quiet"]) == 0
    assert f"results: {folder}" in capsys.readouterr().out
    path.write_text(SLOW_SWEEP.replace("seed: 9", "seed: 10"))
    assert main(["sweep", str(path), "--out", str(folder), "--quiet"]) == 2
    assert "holds a different experiment" in capsys.readouterr().err


def test_a_failing_run_is_logged_and_the_sweep_goes_on(tmp_path, capsys):
    (tmp_path / "fragile.py").write_text(
        "from simsolidarity import register_recommender\n"
        "from simsolidarity.model.recommenders import RECOMMENDERS\n"
        "@register_recommender('fragile')\n"
        "def fragile(model, people):\n"
        "    if model.parameters['homophily'] > 0.5:\n"
        "        raise RuntimeError('fragile recommender gave up')\n"
        "    return RECOMMENDERS['random'](model, people)\n"
    )
    path = write_experiment(tmp_path, "name: e\nreplicates: 2\nsweep: {homophily: [0.2, 0.9]}\nscenario:\n"
                            "  name: s\n  steps: 3\n  plugins: [fragile]\n"
                            "  model: {n_people: 100, width: 10, height: 10, recommender: fragile}\n")
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    assert code == 1
    assert "2 of 4 runs failed (runs 2, 3)" in capsys.readouterr().err
    assert read_table(out / "summary.csv")["homophily"].tolist() == [0.2, 0.2]
    log = (out / "sweep.log").read_text()
    assert "run 2 failed" in log and "fragile recommender gave up" in log


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    path = write_experiment(tmp_path, SLOW_SWEEP)
    code = main(["sweep", str(path), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--out",
                 str(tmp_path / "o"), "--quiet"])
    assert code == 2 and "cannot connect" in capsys.readouterr().err


# --- comparing --------------------------------------------------------------------------------------


def test_compare_runs_and_sweeps_side_by_side(tmp_path, capsys):
    quick = ["--steps", "4", "--set", "n_people=200", "--quiet", "--no-plots"]  # as long as the sweep's runs
    assert main(["run", "echo_chamber", *quick, "--out", str(tmp_path / "a")]) == 0
    assert main(["run", "bridging", *quick, "--out", str(tmp_path / "b")]) == 0
    sweep(experiment(seed=1), out=tmp_path / "s", workers=1, progress=False, plots=False)
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "s"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "echo_chamber (a)" in printed and "bridging (b)" in printed and "exp: recommender=similarity" in printed
    assert printed.count("esteban_ray  (mean [95% CI], runs)") == 1  # one block per outcome, every group in it
    table = read_table(out / "comparison.csv")
    assert set(table["outcome"]) == {"esteban_ray", "belonging"}  # the outcomes all folders share
    assert set(table["n"]) == {1, 2}
    assert (out / "plots" / "belonging_timeseries.png").exists()
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "cmp2")]) == 2


# --- sensitivity samplers ---------------------------------------------------------------------------

SENSITIVITY_SWEEP = {"online_depth": {"start": 0.0, "stop": 1.0}, "confidence": {"start": 0.2, "stop": 1.0}}


def test_morris_and_sobol_designs_have_the_expected_sizes_and_bounds():
    morris = experiment(sampler="morris", samples=3, sweep=SENSITIVITY_SWEEP)
    assert len(morris.points) == 3 * (2 + 1)  # trajectories x (parameters + 1)
    sobol = experiment(sampler="sobol", samples=8, sweep=SENSITIVITY_SWEEP)
    assert len(sobol.points) == 8 * (2 + 2)  # Saltelli design without second-order terms
    for e in (morris, sobol):
        assert all(0 <= p["online_depth"] <= 1 and 0.2 <= p["confidence"] <= 1 for p in e.points)
        assert e.design().shape == (len(e.points), 2)
    with pytest.raises(ScenarioError, match="power of 2"):
        experiment(sampler="sobol", samples=6, sweep=SENSITIVITY_SWEEP)
    with pytest.raises(ScenarioError, match="needs a numeric range"):
        experiment(sampler="morris", samples=2, sweep={"recommender": ["random", "similarity"]})


def test_morris_screening_finds_what_moves_an_outcome(tmp_path):
    # online_depth only scales support, so it cannot move opinions: with paired seeds its elementary
    # effects on polarization are exactly 0, while confidence moves polarization and online_depth
    # moves support.
    e = experiment(sampler="morris", samples=4, replicates=1, seed=2, sweep=SENSITIVITY_SWEEP,
                   outcomes=["esteban_ray", "support_online"])
    e = replace(e, scenario=replace(e.scenario, steps=15))
    sweep(e, out=tmp_path / "m", workers=1, progress=False, plots=True)
    table = read_table(tmp_path / "m" / "sensitivity.csv")
    index = {(o, p): mu for o, p, mu in zip(table["outcome"], table["parameter"], table["mu_star"], strict=True)}
    assert index[("esteban_ray", "online_depth")] == 0.0
    assert index[("esteban_ray", "confidence")] > 0.01
    assert index[("support_online", "online_depth")] > index[("support_online", "confidence")]
    assert (tmp_path / "m" / "plots" / "sensitivity.png").exists()


def test_sobol_analysis_writes_first_and_total_indices(tmp_path):
    e = experiment(sampler="sobol", samples=4, replicates=1, seed=2, sweep=SENSITIVITY_SWEEP,
                   outcomes=["support_online"], plots="none")
    e = replace(e, scenario=replace(e.scenario, steps=5))
    sweep(e, out=tmp_path / "s", workers=1, progress=False, plots=False)
    table = read_table(tmp_path / "s" / "sensitivity.csv")
    assert list(table) == ["outcome", "parameter", "ST", "ST_conf", "S1", "S1_conf"]
    total = dict(zip(table["parameter"], table["ST"], strict=True))
    assert total["online_depth"] > total["confidence"]
