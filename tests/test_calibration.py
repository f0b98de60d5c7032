"""Calibration to observed patterns (``targets:`` in experiment files): acceptance by rejection, distances,
validation, and what a sweep with targets writes, reports and prints.

A tiny sweep (100 people, 3 steps, lhs 6 samples, 1 replicate) is run once for the module; the
tests of the folder, the report and the command line read it. The mutation each test catches is
named in its docstring.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simsolidarity import sweep
from simsolidarity.analysis.calibration import (
    MARGINALS_PLOT,
    PAIRS_PLOT,
    acceptance,
    calibrate,
    prior_ranges,
    target_distances,
    targets_of,
    write_calibration,
)
from simsolidarity.analysis.report import report
from simsolidarity.cli import main
from simsolidarity.running.experiment import Target, experiment_from_dict, load_experiment
from simsolidarity.running.folders import CALIBRATION, EXPERIMENT_FILE, json_data, read_table, write_json
from simsolidarity.running.results import Sweep, load
from simsolidarity.running.scenario import ScenarioError

TINY_SCENARIO = {"name": "tiny", "steps": 3, "model": {"n_people": 100, "width": 10, "height": 10,
                                                        "n_virtual_groups": 6}}
#: Two targets of dyadic widths, so that the means and distances below are exact in binary.
TARGETS = {"belonging": {"range": [0.25, 0.75], "source": "a made-up range"},
           "unmet_need_share": {"range": [0.125, 0.375], "source": "another made-up range"}}


def grid_experiment(**changes):
    """Five points of online_depth on the tiny scenario, with the two targets."""
    data = {"name": "calibrated", "scenario": TINY_SCENARIO, "sweep": {"online_depth": [0.1, 0.3, 0.5, 0.7, 0.9]},
            "outcomes": ["belonging"], "targets": TARGETS, **changes}
    return experiment_from_dict(data, source="c.yaml")


def hand_made_summary() -> pd.DataFrame:
    """Two replicates at points 0 to 3, none at point 4.

    Point 0: both targets met in each run. Point 1: both missed (belonging 0.125 above its range,
    unmet_need_share 0.125 below). Point 2: belonging met, unmet_need_share missed by 0.125.
    Point 3: every run outside both ranges, their means inside (0.5 and 0.25).
    """
    belonging = [0.5, 0.5, 0.875, 0.875, 0.5, 0.5, 0.0, 1.0]
    unmet = [0.25, 0.25, 0.0, 0.0, 0.5, 0.5, 0.0, 0.5]
    return pd.DataFrame({"run": range(8), "point": [0, 0, 1, 1, 2, 2, 3, 3], "replicate": [0, 1] * 4,
                         "online_depth": [0.1, 0.1, 0.3, 0.3, 0.5, 0.5, 0.7, 0.7],
                         "belonging": belonging, "unmet_need_share": unmet})


def test_points_inside_every_target_are_accepted_the_others_rejected_with_their_distances():
    """Catches: a point accepted when only one target is met; the distance not divided by the range's
    width or combined otherwise than as the Euclidean norm; acceptance judged run by run instead of
    on the mean over the point's replicates; a point without runs accepted or left out."""
    table = calibrate(hand_made_summary(), grid_experiment())
    assert list(table.columns) == ["point", "online_depth", "runs", "belonging", "unmet_need_share", "accepted",
                                   "distance"]
    assert table["point"].tolist() == [0, 1, 2, 3, 4]
    assert table["online_depth"].tolist() == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert table["runs"].tolist() == [2, 2, 2, 2, 0]
    assert table["accepted"].tolist() == [True, False, False, True, False]
    assert table["belonging"].tolist()[:4] == [0.5, 0.875, 0.5, 0.5]
    # point 1: 0.125 / 0.5 above belonging's range, 0.125 / 0.25 below unmet_need_share's
    assert table["distance"].tolist()[:4] == [0.0, math.hypot(0.25, 0.5), 0.5, 0.0]
    assert np.isnan(table["distance"].iloc[4]) and np.isnan(table["belonging"].iloc[4])
    assert acceptance(table) == (2, 4)


def test_distances_are_zero_inside_and_scale_with_the_range_width():
    """Catches: a distance measured from the middle of the range, not its nearer end; a range of width
    0 dividing by zero; an undefined mean given a finite distance."""
    targets = [Target("a", 0.0, 2.0, "s"), Target("b", 1.0, 1.0, "s")]
    means = np.array([[1.0, 1.0], [3.0, 1.5], [-1.0, 0.5], [np.nan, 1.0]])
    distances = target_distances(means, targets)
    assert distances[:3].tolist() == [[0.0, 0.0], [0.5, 0.5], [0.5, 0.5]]
    assert np.isnan(distances[3, 0]) and distances[3, 1] == 0.0


def test_a_point_whose_target_outcome_is_undefined_is_rejected():
    """Catches: nan compared as inside (a correlation undefined at a point taken as a match)."""
    summary = hand_made_summary()
    summary.loc[summary["point"] == 0, "belonging"] = np.nan
    table = calibrate(summary, grid_experiment())
    assert not table["accepted"].iloc[0] and np.isnan(table["distance"].iloc[0])


def test_targets_are_recorded_and_their_outcomes_added():
    """Catches: a target outcome not recorded by the runs (no column to calibrate on); targets missing
    from experiment.json (a resumed sweep would lose them); a record without targets changed (older
    sweep folders would no longer resume)."""
    experiment = grid_experiment()
    assert experiment.outcomes == ("belonging", "unmet_need_share")
    record = json_data(experiment.to_dict())
    assert record["targets"] == TARGETS
    assert targets_of(record) == list(experiment.targets)
    assert "targets" not in grid_experiment(targets=None).to_dict()


@pytest.mark.parametrize(
    "targets, key, fragment",
    [
        ({"belongin": {"range": [0, 1], "source": "s"}}, "targets.belongin", "did you mean 'belonging'"),
        ({"belonging": {"range": [0.5], "source": "s"}}, "targets.belonging.range", "two numbers [low, high]"),
        ({"belonging": {"range": ["low", 1], "source": "s"}}, "targets.belonging.range", "two numbers"),
        ({"belonging": {"range": [True, 1], "source": "s"}}, "targets.belonging.range", "two numbers"),
        ({"belonging": {"range": [0, float("nan")], "source": "s"}}, "targets.belonging.range", "two numbers"),
        ({"belonging": {"range": [0.6, 0.4], "source": "s"}}, "targets.belonging.range", "low <= high"),
        ({"belonging": {"range": [0, 1]}}, "targets.belonging.source", "where the range comes from"),
        ({"belonging": {"range": [0, 1], "source": "  "}}, "targets.belonging.source", "where the range comes from"),
        ({"belonging": {"range": [0, 1], "sorce": "s"}}, "targets.belonging.sorce", "did you mean 'source'"),
        ({"belonging": [0, 1]}, "targets.belonging", "expected {range: [low, high], source: text}"),
        ({}, "targets", "expected a mapping of outcome names"),
    ],
)
def test_bad_targets_name_the_key(targets, key, fragment):
    """Catches: an unknown outcome, a range that is not two finite numbers in order, or a target without
    its source accepted; a message that does not name the file and the key."""
    with pytest.raises(ScenarioError) as caught:
        grid_experiment(targets=targets)
    assert caught.value.key == key and fragment in str(caught.value) and "c.yaml" in str(caught.value)


def test_a_point_target_is_allowed():
    """Catches: low == high refused (the rule is low <= high)."""
    experiment = grid_experiment(targets={"belonging": {"range": [0.5, 0.5], "source": "s"}})
    assert experiment.targets == (Target("belonging", 0.5, 0.5, "s"),)


# --- a tiny sweep with targets ------------------------------------------------------------------------

TINY_LHS = {
    "name": "tiny_calibration",
    "description": "Six points of a Latin hypercube on a tiny population, with targets.",
    "scenario": TINY_SCENARIO,
    "seed": 5,
    "replicates": 1,
    "final_window": 2,
    "sampler": "lhs",
    "samples": 6,
    "sweep": {"online_depth": {"start": 0.1, "stop": 0.9}, "homophily": {"start": 0.0, "stop": 1.0},
              "need_rate": {"start": 0.05, "stop": 0.3}},
    "outcomes": ["support_received"],
    "plots": "none",
    # wide enough that every point is accepted: the tests of the other case rewrite the targets
    "targets": {"belonging": {"range": [0.0, 1.0], "source": "belonging is a share"}},
}


def test_the_prior_range_is_the_declared_range_of_a_range_sampler_else_the_values_swept():
    """Catches: the marginals drawn over the span of the points drawn instead of the prior's {start, stop};
    a grid's parameter left without a range."""
    lhs = experiment_from_dict(TINY_LHS, source="c.yaml")
    table = calibrate(hand_made_summary().iloc[:0], lhs)
    assert prior_ranges(lhs, table) == {"online_depth": (0.1, 0.9), "homophily": (0.0, 1.0), "need_rate": (0.05, 0.3)}
    grid = grid_experiment()
    assert prior_ranges(grid, calibrate(hand_made_summary(), grid)) == {"online_depth": (0.1, 0.9)}


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    """The tiny sweep's folder, written by the command line from an experiment file."""
    folder = tmp_path_factory.mktemp("calibration")
    path = folder / "tiny_calibration.yaml"
    path.write_text(yaml.safe_dump(TINY_LHS, sort_keys=False), encoding="utf-8")
    sweep(path, out=folder / "sweep", workers=1, progress=False, plots=True)
    return folder


def test_a_sweep_with_targets_writes_its_calibration_and_plots(calibrated):
    """Catches: calibration.csv or a calibration plot not written; a point left out of the table; the
    target outcome not recorded by the runs; Sweep.calibration not reading the file."""
    folder = calibrated / "sweep"
    table = read_table(folder / CALIBRATION)
    assert table["point"].tolist() == list(range(6))
    assert {"online_depth", "homophily", "need_rate", "belonging", "accepted", "distance"} <= set(table.columns)
    assert table["accepted"].all() and (table["distance"] == 0).all()
    result = load(folder)
    assert isinstance(result, Sweep) and "belonging" in result.outcomes
    pd.testing.assert_frame_equal(result.calibration, table)
    for plot in (MARGINALS_PLOT, PAIRS_PLOT):
        assert (folder / "plots" / plot).stat().st_size > 0


def test_the_report_shows_targets_rate_and_accepted_points(calibrated):
    """Catches: the calibration section missing, a target without its source, the acceptance rate
    left out, or the accepted points not listed; the calibration plots not linked."""
    text = report([calibrated / "sweep"])
    section = text.split("### Calibration\n", 1)[1].split("\n### ", 1)[0]
    assert "| `belonging` | [0, 1] | belonging is a share |" in section
    assert "6 of 6 points accepted (100.0%), inside every target" in section
    points = section.split("The accepted points:", 1)[1].split("Where they lie", 1)[0]
    assert points.count("\n| ") == 2 + 6 and "distance" not in section
    assert "Where they lie, against every point sampled:" in section
    assert "calibration_marginals.png" in text and "calibration_pairs.png" in text


def test_with_no_point_accepted_the_report_lists_the_five_closest(calibrated, tmp_path):
    """Catches: an empty report section when nothing is accepted; points listed in another order than
    their distance; more or fewer than five."""
    folder = tmp_path / "sweep"
    source = calibrated / "sweep"
    experiment = load_experiment(calibrated / "tiny_calibration.yaml")
    impossible = replace(experiment, targets=(Target("belonging", 2.0, 3.0, "out of reach"),))
    folder.mkdir()
    write_json(folder / EXPERIMENT_FILE, impossible.to_dict())
    (folder / "summary.csv").write_bytes((source / "summary.csv").read_bytes())
    summary = Sweep.from_folder(folder).summary
    table = write_calibration(folder, impossible, summary, plots=False)
    text = report([folder])
    assert "0 of 6 points accepted (0.0%)" in text and "the closest, by the distance" in text
    rows = text.split("the closest, by the distance to the targets' box:\n\n", 1)[1].split("\n\n", 1)[0]
    listed = [int(line.split(" | ")[0].removeprefix("| ")) for line in rows.splitlines()[2:]]
    assert listed == table.sort_values("distance", kind="stable")["point"].tolist()[:5]


def test_the_command_line_prints_the_acceptance_rate(calibrated, capsys):
    """Catches: the acceptance rate not printed by simsolidarity sweep (here a resumed, complete sweep)."""
    code = main(["sweep", str(calibrated / "tiny_calibration.yaml"), "--out", str(calibrated / "sweep"),
                 "--workers", "1", "--quiet", "--no-plots"])
    assert code == 0
    assert "calibration: 6 of 6 points accepted (100.0%), inside every target (calibration.csv)" in (
        capsys.readouterr().out)


def test_the_report_says_where_the_accepted_points_lie():
    """Catches: the accepted region read from all points, or a parameter's least and greatest swapped."""
    import pandas as pd

    from simsolidarity.analysis.report import _accepted_region

    table = pd.DataFrame({"point": [0, 1, 2, 3], "compensation": [-0.9, 0.2, 0.6, 0.9],
                          "recommender": ["a", "b", "a", "b"], "accepted": [False, True, True, False]})
    lines = _accepted_region(table, table[table["accepted"]], ["compensation", "recommender"])
    assert lines[2:4] == ["| parameter | sampled | accepted: least | median | greatest |",
                          "| --- | --- | --- | --- | --- |"]
    assert lines[4] == "| `compensation` | [-0.9, 0.9] | 0.2 | 0.4 | 0.6 |"
    assert len(lines) == 6  # the text column is left out
