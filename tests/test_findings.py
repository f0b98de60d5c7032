"""Hypotheses stated in experiment files, and a smoke run of every ready experiment."""

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from simsolidarity import sweep
from simsolidarity.analysis.hypotheses import evaluate_expectation
from simsolidarity.running.experiment import Expectation, experiment_from_dict, load_experiment
from simsolidarity.running.folders import read_table
from simsolidarity.running.scenario import ScenarioError

EXPERIMENTS = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.yaml"))


def table(a: list[float], b: list[float]) -> pd.DataFrame:
    """A summary table: point 0 is recommender 'a', point 1 is 'b', one run per replicate."""
    n = len(a)
    return pd.DataFrame({
        "run": list(range(2 * n)), "point": [0] * n + [1] * n, "replicate": [*range(n), *range(n)],
        "recommender": ["a"] * n + ["b"] * n, "x": [*a, *b],
    })


HIGHER = Expectation("x", "higher", {"recommender": "a"}, {"recommender": "b"})
LOWER = Expectation("x", "lower", {"recommender": "a"}, {"recommender": "b"})


def verdict(expectation: Expectation, data: pd.DataFrame, paired: bool) -> dict:
    """The row of the expectation's own measure."""
    rows = evaluate_expectation(expectation, data, paired)
    assert rows[0]["role"] == "stated"
    return rows[0]


def test_a_clear_difference_supports_or_contradicts():
    data = table([1.0, 1.2, 1.1, 1.3], [0.2, 0.1, 0.3, 0.2])
    result = verdict(HIGHER, data, paired=True)
    assert result["verdict"] == "supported" and result["n"] == 4
    assert result["difference"] == pytest.approx(0.95) and 0 < result["low"] < 0.95 < result["high"]
    assert verdict(LOWER, data, paired=True)["verdict"] == "contradicted"
    assert verdict(HIGHER, data, paired=False)["verdict"] == "supported"


def test_pairing_sees_a_small_shift_that_the_spread_between_seeds_hides():
    # Each seed moves the outcome a lot, the recommender only a little but always the same way.
    base = [0.1, 0.9, 0.4, 0.7, 0.2, 0.6]
    data = table([v + 0.05 for v in base], base)
    assert verdict(HIGHER, data, paired=True)["verdict"] == "supported"
    assert verdict(HIGHER, data, paired=False)["verdict"] == "inconclusive"


def test_no_difference_is_inconclusive():
    data = table([0.5, 0.6, 0.4, 0.5], [0.6, 0.4, 0.5, 0.5])
    assert verdict(HIGHER, data, paired=True)["verdict"] == "inconclusive"


def test_a_gap_between_two_outcomes_is_compared_not_the_outcome():
    # x rises under 'a', but y rises more: the gap x - y falls. Catches: relative_to ignored.
    data = table([1.0, 1.2, 1.1, 1.3], [0.2, 0.1, 0.3, 0.2]).assign(y=[2.0, 2.3, 2.1, 2.2, 0.5, 0.4, 0.6, 0.5])
    gap = Expectation("x", "higher", {"recommender": "a"}, {"recommender": "b"}, relative_to="y")
    result = verdict(gap, data, paired=True)
    assert result["outcome"] == "x - y" and result["verdict"] == "contradicted"
    assert result["difference"] == pytest.approx(0.95 - 1.65)
    assert gap.text().startswith("x - y higher when")


POLARIZATION = ("esteban_ray", "esteban_ray_10", "esteban_ray_40", "duclos_esteban_ray", "opinion_variance",
                "bimodality")
UP, FLAT, DOWN = [0.30, 0.32, 0.31, 0.33, 0.34], [0.22, 0.18, 0.20, 0.21, 0.19], [0.10, 0.12, 0.11, 0.13, 0.09]


def polarized(**moves: list[float]) -> pd.DataFrame:
    """Point 0 ('a') against point 1 ('b' at about 0.2 for every measure), each measure moving as given."""
    data = table(FLAT, FLAT)
    for measure in POLARIZATION:
        data[measure] = [*moves.get(measure, FLAT), *FLAT]
    return data


@pytest.mark.parametrize(
    "moves, expected",
    [
        ({m: UP for m in POLARIZATION}, "supported"),
        ({"esteban_ray": UP, "duclos_esteban_ray": UP, "bimodality": UP}, "supported"),
        # Catches: a verdict from the stated, binned measure alone.
        ({"esteban_ray": UP, "opinion_variance": UP, "bimodality": UP}, "depends on the measure"),
        # Catches: the kernel measure taken without a moment measure beside it.
        ({"esteban_ray": UP, "duclos_esteban_ray": UP}, "depends on the measure"),
        # The stated measure moving against the others does not leave a verdict standing.
        ({"esteban_ray": UP, "duclos_esteban_ray": DOWN, "opinion_variance": DOWN}, "depends on the measure"),
        ({"duclos_esteban_ray": DOWN, "opinion_variance": DOWN}, "contradicted"),
        ({}, "inconclusive"),
    ],
)
def test_a_polarization_verdict_needs_the_kernel_and_a_moment_measure_to_agree(moves, expected):
    stated = Expectation("esteban_ray", "higher", {"recommender": "a"}, {"recommender": "b"})
    rows = evaluate_expectation(stated, polarized(**moves), paired=True)
    assert [row["outcome"] for row in rows] == ["esteban_ray", "duclos_esteban_ray", "opinion_variance",
                                                "bimodality", "esteban_ray_10", "esteban_ray_40"]
    assert {row["verdict"] for row in rows} == {expected}
    assert [row["role"] for row in rows] == ["stated"] + ["check"] * 5


def test_an_expectation_on_polarization_records_the_measures_it_is_checked_with():
    data = {"name": "e", "scenario": TINY, "sweep": {"recommender": ["random", "bridging"]},
            "outcomes": ["esteban_ray", "belonging"], "hypothesis": {"claim": "c", "expect": [
                {"outcome": "esteban_ray", "higher_when": {"recommender": "random"},
                 "than": {"recommender": "bridging"}}]}}
    experiment = experiment_from_dict(data, source="e.yaml")
    assert experiment.outcomes == ("esteban_ray", "belonging", "duclos_esteban_ray", "opinion_variance",
                                   "bimodality", "esteban_ray_10", "esteban_ray_40")
    data["hypothesis"]["expect"][0]["outcome"] = "belonging"
    assert experiment_from_dict(data, source="e.yaml").outcomes == ("esteban_ray", "belonging")


TINY = {"name": "tiny", "steps": 3, "model": {"n_people": 100, "width": 10, "height": 10}}


@pytest.mark.parametrize(
    "expect, fragment",
    [
        ([{"outcome": "belonging", "higher_when": {"recommender": "random"}, "than": {"recommender": "bridging"}}],
         "outcome: expected one of the experiment's outcomes"),
        ([{"outcome": "esteban_ray", "higher_when": {"homophily": 0.1}, "than": {"recommender": "random"}}],
         "higher_when.homophily: not a swept parameter"),
        ([{"outcome": "esteban_ray", "higher_when": {"recommender": "random"}, "lower_when": {"recommender": "random"},
           "than": {"recommender": "bridging"}}], "one of 'higher_when' or 'lower_when'"),
        ([{"outcome": "esteban_ray", "higher_when": {"recommender": "oracle"}, "than": {"recommender": "random"}}],
         "higher_when.recommender: got 'oracle'"),
        ([{"outcome": "esteban_ray", "relative_to": "belonging", "higher_when": {"recommender": "random"},
           "than": {"recommender": "bridging"}}], "relative_to: expected one of the experiment's outcomes"),
        ([{"outcome": "esteban_ray", "relative_to": "esteban_ray", "higher_when": {"recommender": "random"},
           "than": {"recommender": "bridging"}}], "relative_to: expected an outcome other than 'esteban_ray'"),
    ],
)
def test_bad_hypotheses_are_reported(expect, fragment):
    data = {"name": "e", "scenario": TINY, "sweep": {"recommender": ["random", "bridging"]},
            "outcomes": ["esteban_ray"], "hypothesis": {"claim": "c", "expect": expect}}
    with pytest.raises(ScenarioError, match="hypothesis.expect") as caught:
        experiment_from_dict(data, source="e.yaml")
    assert fragment in str(caught.value)


def test_every_ready_experiment_states_its_claim():
    for path in EXPERIMENTS:
        experiment = load_experiment(path)
        assert experiment.description, path
        if experiment.sampler not in ("morris", "sobol"):  # a calibration states its targets instead of a claim
            assert (experiment.hypothesis is not None and experiment.hypothesis.expect) or experiment.targets, path


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_ready_experiment_runs_on_a_tiny_population(path, tmp_path):
    experiment = load_experiment(path)
    small = {"n_people": 100, "width": 12, "height": 12, "n_virtual_groups": 8}
    experiment = replace(
        experiment, replicates=2,
        scenario=replace(experiment.scenario, steps=3, model={**experiment.scenario.model, **small}),
    )
    if experiment.sampler == "morris":
        experiment = replace(experiment, replicates=1)
    result = sweep(experiment, out=tmp_path / "sweep", workers=1, progress=False, plots=True)
    assert result.complete == result.total and result.failed.empty
    summary = read_table(tmp_path / "sweep" / "summary.csv")
    assert len(summary["run"]) == result.total
    if experiment.hypothesis is not None:
        verdicts = read_table(tmp_path / "sweep" / "hypotheses.csv")
        stated = verdicts[verdicts["role"] == "stated"]
        assert len(stated) == len(experiment.hypothesis.expect)
        assert len(verdicts) == len(stated) + sum(len(e.checks) for e in experiment.hypothesis.expect)
        assert set(verdicts["verdict"]) <= {"supported", "contradicted", "inconclusive", "depends on the measure"}
    if experiment.sampler == "morris":
        assert (tmp_path / "sweep" / "sensitivity.csv").exists()
    if experiment.frontier:
        assert (tmp_path / "sweep" / "plots" / "frontier.png").exists()
