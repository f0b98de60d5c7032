"""Comparisons and plots that cannot mislead, overrides recorded in the manifest, and feedback on stderr.

The mutation each test catches is named in its docstring.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.container import ErrorbarContainer
from scipy import stats

import simsolidarity as ss
from simsolidarity import api
from simsolidarity.analysis import compare as comparing
from simsolidarity.analysis.plots import MAX_SERIES, sweep_outcome_figure, sweep_timeseries_figure
from simsolidarity.analysis.summary import BOOTSTRAP, STUDENT_T, summarize
from simsolidarity.cli import main
from simsolidarity.model.outcomes import OUTCOMES, OutcomeError, register_outcome
from simsolidarity.running.folders import read_json, read_table

TINY = "name: tiny\nsteps: 3\nmodel: {n_people: 100, width: 10, height: 10, n_virtual_groups: 5}\n"
SCENARIO = {"name": "tiny", "steps": 3, "seed": 5, "model": {"n_people": 100, "width": 10, "height": 10}}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def run_folder(capsys, scenario: Path, out: Path, *flags: str) -> Path:
    """A run folder of ``scenario`` made by the command line (no plots, no bar)."""
    assert main(["run", str(scenario), "--out", str(out), "--no-plots", "--quiet", *flags]) == 0
    capsys.readouterr()
    return out


# --- comparisons -----------------------------------------------------------------------------------


def test_compare_refuses_runs_of_different_steps_naming_each_folder(tiny, tmp_path, capsys):
    """Runs of 3 and 4 steps are refused with exit 2, one line saying which folder has which steps.

    Catches: a comparison of runs of different lengths (their final-window means measure different
    moments of the dynamics) made silently, or a refusal that does not say which folder differs.
    """
    short = run_folder(capsys, tiny, tmp_path / "short")
    long = run_folder(capsys, tiny, tmp_path / "long", "--steps", "4")
    code = main(["compare", str(short), str(long), "--out", str(tmp_path / "cmp")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"steps: 3 in {short}; 4 in {long}" in err and "--allow-mismatch" in err
    assert not (tmp_path / "cmp").exists()


def test_allow_mismatch_compares_with_a_note(tiny, tmp_path, capsys):
    """``--allow-mismatch`` compares the same folders, and says in a note that the runs differ in length.

    Catches: a flag that is not passed on (still refused), or a mismatch accepted without a word.
    """
    short = run_folder(capsys, tiny, tmp_path / "short")
    long = run_folder(capsys, tiny, tmp_path / "long", "--steps", "4")
    code = main(["compare", str(short), str(long), "--out", str(tmp_path / "cmp"), "--allow-mismatch"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"note: compared anyway, with runs of different length (steps: 3 in {short}; 4 in {long})" in out
    assert set(read_table(tmp_path / "cmp" / "comparison.csv")["group"]) == {"tiny (short)", "tiny (long)"}
    with pytest.raises(ss.SimsolidarityError, match="final window|steps: 3"):
        comparing.compare([short, long], tmp_path / "api")  # the API refuses too, unless allow_mismatch=True
    assert comparing.compare([short, long], tmp_path / "api", allow_mismatch=True).notes


def test_runs_on_different_seeds_are_labelled_unpaired(tiny, tmp_path, capsys, monkeypatch):
    """Two runs of one scenario on seeds 1 and 2: a printed note, ``paired`` false in the table, and
    "unpaired" in the note of the plots; on the same seed, none of these.

    Catches: a comparison that reads as paired when the groups' differences include the noise
    between seeds, or a check that calls every comparison unpaired.
    """
    notes = []
    real = comparing.save_band_plots

    def recording(*args, note=None, **kwargs):
        notes.append(note)
        return real(*args, note=note, **kwargs)

    monkeypatch.setattr(comparing, "save_band_plots", recording)
    one, two, again = (run_folder(capsys, tiny, tmp_path / name, "--seed", seed)
                       for name, seed in (("one", "1"), ("two", "2"), ("again", "1")))
    assert main(["compare", str(one), str(two), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "note: unpaired: the groups ran on different seeds (seed 1 in tiny (one); seed 2 in tiny (two))" in out
    assert not read_table(tmp_path / "cmp" / "comparison.csv")["paired"].any()
    assert "unpaired" in notes[-1]
    same = comparing.compare([one, again], tmp_path / "same")
    assert same.paired and same.notes == () and same.table["paired"].all() and notes[-1] is None


def test_a_paired_sweep_is_paired_and_another_base_scenario_is_not(tmp_path, capsys):
    """The points of one paired sweep share seeds and base scenario: paired. Beside a run of another
    scenario (a parameter no sweep varies differs), the comparison names that parameter.

    Catches: parameters that a sweep varies counted as a difference of base scenario, or a base
    scenario that differs (here ``homophily``) and goes unsaid.
    """
    experiment = {"name": "exp", "scenario": SCENARIO, "replicates": 2, "seed": 3,
                  "sweep": {"recommender": ["random", "similarity"]}, "outcomes": ["belonging"], "plots": "none"}
    ss.sweep(experiment, out=tmp_path / "s", workers=1, progress=False, plots=False)
    alone = comparing.compare([tmp_path / "s"], tmp_path / "alone")
    assert alone.paired and alone.notes == ()
    ss.run({**SCENARIO, "model": {**SCENARIO["model"], "homophily": 0.9}}, out=tmp_path / "r", plots=False)
    mixed = comparing.compare([tmp_path / "s", tmp_path / "r"], tmp_path / "mixed")
    assert not mixed.paired
    (differing,) = [note for note in mixed.notes if "no compared sweep varies" in note]
    assert differing.endswith("no compared sweep varies: homophily (0.5, 0.9)"), differing


# --- intervals -------------------------------------------------------------------------------------


def test_a_bounded_outcome_near_its_bound_has_an_interval_inside_it():
    """Exposure diversity (>= 0) of runs near 0: the bootstrap interval's low end is >= 0, where the
    Student-t interval of the same values goes below 0; an unregistered column keeps Student-t.

    Catches: a Student-t interval for a bounded outcome (a negative spread of opinions), a bootstrap
    that is not seeded (two calls differ), or a bootstrap used for every column.
    """
    values = [0.0, 0.0, 0.0, 0.001, 0.002, 0.06]
    table = pd.DataFrame({"point": 0, "exposure_diversity": values, "x": values})
    first = summarize(table, ["exposure_diversity", "x"])
    pd.testing.assert_frame_equal(first, summarize(table, ["exposure_diversity", "x"]))
    bounded, plain = (row for _, row in first.set_index("outcome").iterrows())
    assert OUTCOMES["exposure_diversity"].bounds == (0.0, 1.0) and bounded["interval"] == BOOTSTRAP
    assert 0.0 <= bounded["low"] <= np.mean(values) <= bounded["high"]
    t_low, t_high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert t_low < 0 and plain["interval"] == STUDENT_T
    assert [plain["low"], plain["high"]] == pytest.approx([t_low, t_high])


def test_a_bootstrap_interval_depends_on_a_groups_values_only():
    """The same runs give the same interval whatever the order of the rows and the other groups.

    Catches: groups resampled with draws that depend on their neighbours or their order (a
    comparison whose interval for one folder changes with the folders beside it).
    """
    rng = np.random.default_rng(1)
    a = pd.DataFrame({"point": 0, "belonging": rng.random(5)})
    b = pd.DataFrame({"point": 1, "belonging": rng.random(5)})
    alone = summarize(a, ["belonging"])
    together = summarize(pd.concat([b, a.iloc[::-1]]), ["belonging"])
    beside = together.loc[together["point"] == 0, ["low", "high"]]
    assert beside.to_numpy().tolist() == alone[["low", "high"]].to_numpy().tolist()


def test_bounds_are_checked_when_an_outcome_is_registered():
    """Catches: bounds of the wrong shape or order accepted, to fail later inside a summary."""
    for bad in ((1.0, 0.0), (0.0,), "0-1", (0.0, float("nan")), (True, 1.0)):
        with pytest.raises(OutcomeError, match="bounds"):
            register_outcome("bounded_test", lambda state: 0.0, meaning="m", family="f", bounds=bad)
    assert "bounded_test" not in OUTCOMES


# --- plots ---------------------------------------------------------------------------------------


def sweep_table(levels: int = 2, repeats: int = 3) -> pd.DataFrame:
    """A sweep's summary: three recommenders x ``levels`` online depths, ``repeats`` runs each."""
    rng = np.random.default_rng(0)
    rows = [{"recommender": r, "online_depth": round(0.1 * (d + 1), 1), "belonging": rng.random()}
            for r in ("random", "similarity", "bridging") for d in range(levels) for _ in range(repeats)]
    return pd.DataFrame(rows)


def test_a_categorical_parameter_is_drawn_as_dodged_points_with_error_bars():
    """Against the recommender, each depth is a set of points with error bars, no line joins two
    recommenders, and the depths sit apart at each recommender.

    Catches: a line drawn between categories (it suggests values between 'random' and 'similarity'),
    or series drawn at the same x so that their error bars hide each other.
    """
    figure = sweep_outcome_figure("belonging", ["recommender", "online_depth"], sweep_table(), "demo")
    (ax,) = [ax for ax in figure.axes if ax.get_xlabel() == "recommender"]
    assert all(line.get_linestyle() == "None" for line in ax.lines)
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    first, second = (bar.lines[0].get_xdata() for bar in bars)
    assert len(first) == 3 and all(a != b for a, b in zip(first, second, strict=True))
    (numeric,) = [ax for ax in figure.axes if ax.get_xlabel() == "online_depth"]
    assert any(line.get_linestyle() != "None" for line in numeric.lines)  # a numeric parameter keeps its lines
    assert "percentile bootstrap" in figure.get_suptitle()


def test_no_panel_holds_more_than_six_series():
    """Ten depths against the recommender are spread over panels of at most six series, all drawn.

    Catches: one panel of ten series whose colours repeat and whose error bars pile up.
    """
    figure = sweep_outcome_figure("belonging", ["recommender", "online_depth"], sweep_table(levels=10), "demo")
    categorical = [ax for ax in figure.axes if ax.get_xlabel() == "recommender"]
    counts = [len(ax.get_legend_handles_labels()[1]) for ax in categorical]
    assert max(counts) <= MAX_SERIES and sum(counts) == 10
    bands = pd.DataFrame([{"group": g, "step": s, "outcome": "belonging", "mean": 0.5, "low": 0.4, "high": 0.6,
                           "interval": BOOTSTRAP} for g in range(12) for s in range(3)])
    timeseries = sweep_timeseries_figure("belonging", bands, {g: f"point {g}" for g in range(12)}, "demo", "unpaired")
    counts = [len(ax.get_legend_handles_labels()[1]) for ax in timeseries.axes]
    assert max(counts) <= MAX_SERIES and sum(counts) == 12
    assert "unpaired" in timeseries.get_suptitle()


def test_identical_series_stay_told_apart():
    """Two depths with the same means: their lines differ in line style and marker in their panel.

    Catches: coinciding series drawn alike, so that one hides the other entirely.
    """
    table = sweep_table()
    table["belonging"] = 0.5
    figure = sweep_outcome_figure("belonging", ["online_depth", "recommender"], table, "demo")
    (ax,) = [ax for ax in figure.axes if ax.get_xlabel() == "online_depth"]
    styles = {(line.get_linestyle(), line.get_marker()) for line in ax.lines if line.get_label()[0] != "_"}
    assert len(styles) == 3


# --- overrides in the manifest ------------------------------------------------------------------------


def test_the_manifest_records_each_override_of_the_command_line(tiny, tmp_path, capsys):
    """Catches: a run whose manifest does not say which values came from --set, --seed or --steps."""
    out = run_folder(capsys, tiny, tmp_path / "r", "--set", "online_depth=0.2", "--seed", "7", "--steps", "2")
    assert read_json(out / "manifest.json")["overrides"] == [
        {"key": "online_depth", "value": 0.2, "source": "--set"},
        {"key": "seed", "value": 7, "source": "--seed"},
        {"key": "steps", "value": 2, "source": "--steps"},
    ]
    plain = run_folder(capsys, tiny, tmp_path / "plain")
    assert read_json(plain / "manifest.json")["overrides"] == []


def test_the_manifest_records_the_keywords_of_the_python_call(tmp_path):
    """Catches: keywords of ``simsolidarity.run`` that change a run without a trace in its record,
    or overrides of a loaded scenario that replace those it already had."""
    run = ss.run(SCENARIO, seed=3, online_depth=1, out=tmp_path / "r", plots=False)
    recorded = [{"key": "online_depth", "value": 1.0, "source": "simsolidarity.run"},
                {"key": "seed", "value": 3, "source": "simsolidarity.run"}]
    assert run.manifest["overrides"] == recorded
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["overrides"] == recorded
    scenario = api.scenario_of(SCENARIO, {"homophily": 0.1}, origin="--set")
    assert ss.run(scenario, steps=1).manifest["overrides"] == [
        {"key": "homophily", "value": 0.1, "source": "--set"},
        {"key": "steps", "value": 1, "source": "simsolidarity.run"},
    ]


# --- feedback ------------------------------------------------------------------------------------------


FRAGILE = (
    "from simsolidarity import register_recommender\n"
    "from simsolidarity.model.recommenders import RECOMMENDERS\n"
    "@register_recommender('fragile_logged')\n"
    "def fragile(model, people):\n"
    "    if model.parameters['homophily'] > 0.5:\n"
    "        raise RuntimeError('fragile recommender gave up')\n"
    "    return RECOMMENDERS['random'](model, people)\n"
)


def test_a_failed_run_is_logged_as_a_warning(tmp_path, caplog):
    """The package logs each failed run at WARNING, as it fails, naming the error and the log file.

    Catches: failed runs known only at the end of a long sweep (or only from sweep.log).
    """
    (tmp_path / "fragile_logged.py").write_text(FRAGILE)
    experiment = {"name": "exp", "replicates": 1, "sweep": {"homophily": [0.2, 0.9]}, "outcomes": ["belonging"],
                  "scenario": {**SCENARIO, "plugins": ["fragile_logged"],
                               "model": {**SCENARIO["model"], "recommender": "fragile_logged"}}}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(experiment))
    with caplog.at_level(logging.WARNING, logger="simsolidarity"):
        ss.sweep(tmp_path / "e.yaml", out=tmp_path / "s", workers=1, progress=False, allow_failures=True,
                 plots=False)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "simsolidarity.running.sweep"
    message = warning.getMessage()
    assert "run 1 of sweep exp failed" in message and "fragile recommender gave up" in message
    assert str(tmp_path / "s" / "sweep.log") in message


def test_the_library_prints_no_warning_of_its_own():
    """In a fresh interpreter with no logging configured, a warning of the package reaches no stream.

    Catches: a package logger without its NullHandler, whose warnings Python's last-resort handler
    prints on stderr of every script and notebook that uses the library.
    """
    code = ("from simsolidarity.log import get_logger\n"
            "get_logger('simsolidarity.running.sweep').warning('run 1 of sweep exp failed')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr == "" and done.stdout == ""


def test_verbose_says_what_is_done_and_quiet_says_nothing(tiny, tmp_path, capsys):
    """``-v`` (before or after the command) shows the run's start, end and folder on stderr; by
    default and with ``-q`` stderr stays empty.

    Catches: -v not wired to the package's logger, a subcommand default that overwrites the
    top-level flag, or INFO messages shown by default.
    """
    for flags, shown in ((["-v", "run"], True), (["run", "-v"], True), (["run"], False), (["-q", "run"], False)):
        out = tmp_path / "-".join(flags).strip("-")
        assert main([*flags, str(tiny), "--out", str(out), "--no-plots"]) == 0
        err = capsys.readouterr().err
        assert ("simsolidarity: info: run tiny finished" in err and f"results in {out}" in err) == shown, err
    # the command line removed its handler: the package's logger has its NullHandler only
    assert all(isinstance(h, logging.NullHandler) for h in logging.getLogger("simsolidarity").handlers)


def test_the_run_bar_is_cleared_unless_kept(tiny, tmp_path, capsys, monkeypatch):
    """``progress=True`` clears the bar when the run ends, ``"keep"`` leaves it; ``--keep-progress`` and
    ``-q`` reach the API.

    Catches: a --keep-progress flag that is not passed on, a top-level -q that still shows the bar,
    or a bar left behind by default.
    """
    ss.run(SCENARIO, progress=True)
    cleared = capsys.readouterr().err
    ss.run(SCENARIO, progress="keep")
    kept = capsys.readouterr().err
    assert "3/3" in kept and kept.endswith("\n") and not cleared.endswith("\n")
    calls = []
    real = api.run
    monkeypatch.setattr(api, "run", lambda *args, **kwargs: calls.append(kwargs["progress"]) or real(*args, **kwargs))
    for index, flags in enumerate((["run", "--keep-progress"], ["-q", "run", "--keep-progress"], ["run"])):
        assert main([*flags, str(tiny), "--out", str(tmp_path / str(index)), "--no-plots"]) == 0
    assert calls == ["keep", False, True]
