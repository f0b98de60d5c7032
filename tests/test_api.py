"""The public Python API: run, sweep and load, their tables, and the command line as a shell on them."""

import pickle

import pandas as pd
import pytest

import simsolidarity as ss
from simsolidarity.cli import main
from simsolidarity.running.folders import read_table

TINY = {"n_people": 120, "width": 12, "height": 12, "n_virtual_groups": 6}
SCENARIO = {"name": "tiny", "steps": 4, "seed": 5, "model": TINY}
EXPERIMENT = {"name": "exp", "scenario": SCENARIO, "replicates": 2, "seed": 3,
              "sweep": {"recommender": ["random", "similarity"], "homophily": [0.2, 0.8]},
              "outcomes": ["esteban_ray", "belonging"], "plots": "none"}

FRAGILE = (
    "from simsolidarity import register_recommender\n"
    "from simsolidarity.model.recommenders import RECOMMENDERS\n"
    "@register_recommender('fragile_api')\n"
    "def fragile(model, people):\n"
    "    if model.parameters['homophily'] > 0.5:\n"
    "        raise RuntimeError('fragile recommender gave up')\n"
    "    return RECOMMENDERS['random'](model, people)\n"
)


def test_run_from_a_dict_keeps_the_model_and_writes_nothing(tmp_path, monkeypatch):
    """Catches: a run that writes results by default, or returns a table without its steps."""
    monkeypatch.chdir(tmp_path)
    run = ss.run(SCENARIO, steps=3, online_depth=0.2)
    assert list(tmp_path.iterdir()) == []
    assert run.folder is None and run.seed == 5 and run.parameters["online_depth"] == 0.2
    assert run.timeseries["step"].tolist() == [0, 1, 2, 3]
    assert run.model.steps == 3 and run.model.parameters["online_depth"] == 0.2
    assert run.timeseries["belonging"].iloc[-1] == run.manifest["final_outcomes"]["belonging"]


def test_run_writes_the_same_numbers_as_the_command_line(tmp_path, capsys):
    """Catches: an API and a CLI that simulate differently (the CLI must be a shell on the API)."""
    run = ss.run("baseline", seed=7, steps=3, out=tmp_path / "api", plots=False, n_people=200)
    assert main(["run", "baseline", "--seed", "7", "--steps", "3", "--set", "n_people=200", "--no-plots", "--quiet",
                 "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "api" / "timeseries.csv").read_bytes() == (tmp_path / "cli" / "timeseries.csv").read_bytes()
    loaded = ss.load(tmp_path / "cli")
    assert isinstance(loaded, ss.Run)
    pd.testing.assert_frame_equal(loaded.timeseries, run.timeseries)
    assert loaded.summary == pytest.approx(run.summary, nan_ok=True)


def test_the_command_line_runs_through_the_api(tmp_path, monkeypatch, capsys):
    """Catches: a command line that simulates on its own path instead of calling the API."""
    calls = []
    real = ss.api.run

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ss.api, "run", recording)
    assert main(["run", "baseline", "--steps", "2", "--set", "n_people=150", "--no-plots", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0
    assert len(calls) == 1 and calls[0]["out"] == tmp_path / "r"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep") / "exp"
    return ss.sweep(EXPERIMENT, out=folder, workers=1, progress=False), folder


def test_sweep_summary_has_every_parameter_and_outcome_per_run(finished):
    """Catches: a summary with only the swept parameters, or one row per point instead of per run."""
    sweep, _ = finished
    assert sweep.total == sweep.complete == 8 and sweep.failed.empty
    summary = sweep.summary
    assert list(summary.columns) == ["run", "point", "replicate", "seed", *ss.PARAMETERS, "esteban_ray", "belonging"]
    assert summary["run"].tolist() == list(range(8))
    assert (summary["n_people"] == 120).all() and set(summary["homophily"]) == {0.2, 0.8}
    # paired replicates: replicate r has the same seed at every point
    assert summary.groupby("replicate")["seed"].nunique().eq(1).all()


def test_sweep_timeseries_is_one_tidy_table_with_parameters_joined(finished):
    """Catches: a long table that loses runs or steps, or joins the wrong run's parameters."""
    sweep, folder = finished
    long = sweep.timeseries()
    assert len(long) == 8 * 5  # runs x (steps + the initial state)
    assert {"run", "point", "replicate", "seed", "step", "recommender", "n_people", "belonging"} <= set(long.columns)
    run5 = long[long["run"] == 5]
    own = read_table(folder / "runs" / "run-00005" / "timeseries.csv")
    assert run5["belonging"].tolist() == own["belonging"].tolist()
    assert set(run5["recommender"]) == {sweep.summary.loc[5, "recommender"]}
    only = sweep.timeseries(["belonging"], parameters="swept")
    assert list(only.columns) == ["run", "point", "replicate", "seed", "recommender", "homophily", "step", "belonging"]
    with pytest.raises(ss.SimsolidarityError, match="not an outcome of this sweep"):
        sweep.timeseries(["support_received"])


def test_load_gives_back_the_same_tables(finished):
    """Catches: a loaded sweep whose tables differ from those of the sweep that wrote them."""
    sweep, folder = finished
    loaded = ss.load(folder)
    assert isinstance(loaded, ss.Sweep)
    pd.testing.assert_frame_equal(loaded.summary, sweep.summary)
    pd.testing.assert_frame_equal(loaded.timeseries(), sweep.timeseries())
    assert loaded.run(3).seed == sweep.summary.loc[3, "seed"]
    with pytest.raises(ss.SimsolidarityError, match="neither a run folder"):
        ss.load(folder / "runs")


def test_failed_runs_raise_unless_allowed(tmp_path):
    """Catches: a sweep that returns quietly with runs missing, or an error that cannot cross processes."""
    (tmp_path / "fragile_api.py").write_text(FRAGILE)
    experiment = {**EXPERIMENT, "sweep": {"homophily": [0.2, 0.9]},
                  "scenario": {**SCENARIO, "plugins": ["fragile_api"], "model": {**TINY, "recommender": "fragile_api"}}}
    (tmp_path / "e.yaml").write_text(__import__("yaml").safe_dump(experiment))
    with pytest.raises(ss.RunsFailedError) as caught:
        ss.sweep(tmp_path / "e.yaml", out=tmp_path / "strict", workers=1, progress=False)
    assert caught.value.failed.keys() == {2, 3} and "2 of 4 runs failed (runs 2, 3)" in str(caught.value)
    assert caught.value.exit_code == 1
    again = pickle.loads(pickle.dumps(caught.value))
    assert again.failed == caught.value.failed and str(again) == str(caught.value)
    sweep = ss.sweep(tmp_path / "e.yaml", out=tmp_path / "lenient", workers=1, progress=False, allow_failures=True)
    assert sweep.complete == 2 and sweep.failed["run"].tolist() == [2, 3]
    assert sweep.failed["error"].str.contains("fragile recommender gave up").all()
    assert ss.load(tmp_path / "lenient").failed["run"].tolist() == [2, 3]


@pytest.mark.parametrize("record", ["{}", "[1, 2]", "{not json", '{"name": "e", "points": []}'])
def test_a_foreign_or_broken_experiment_record_is_a_clear_error(tmp_path, record):
    """Catches: a KeyError or JSONDecodeError traceback from a folder that only looks like a sweep."""
    (tmp_path / "runs").mkdir()
    (tmp_path / "experiment.json").write_text(record)
    with pytest.raises(ss.SimsolidarityError, match="experiment.json"):
        ss.load(tmp_path)


def test_every_public_name_resolves_and_is_listed():
    """Catches: a name in __all__ whose lazy import is missing or broken, or one left out of __all__."""
    assert sorted(ss.__all__) == sorted(ss._SOURCES)
    for name in ss.__all__:
        assert getattr(ss, name) is not None, name
