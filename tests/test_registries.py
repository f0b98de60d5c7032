"""Registries of samplers and executors: a registered one is used everywhere a built-in one is.

Each test registers what it needs and removes it again; the mutation each test catches is named
in its docstring.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simsolidarity.analysis import sensitivity
from simsolidarity.errors import ExecutorError, SimsolidarityError
from simsolidarity.running.executors import EXECUTORS, register_executor
from simsolidarity.running.experiment import experiment_from_dict
from simsolidarity.running.folders import read_json
from simsolidarity.running.samplers import (
    SAMPLERS,
    SENSITIVITY_SAMPLERS,
    Sampler,
    SamplerError,
    register_sampler,
)
from simsolidarity.running.scenario import ScenarioError
from simsolidarity.running.sweep import run_sweep

TINY = {"name": "tiny", "steps": 3, "model": {"n_people": 40, "width": 8, "height": 8, "n_virtual_groups": 4}}


def tiny_experiment(**changes):
    data = {"name": "exp", "scenario": TINY, "replicates": 2, "sweep": {"online_depth": [0.2, 0.6]},
            "outcomes": ["belonging"], "plots": "none", **changes}
    return experiment_from_dict(data, source="test.yaml")


@contextlib.contextmanager
def registered_sampler(name: str, sampler: Sampler):
    register_sampler(name, sampler)
    try:
        yield sampler
    finally:
        SAMPLERS.pop(name, None)


@contextlib.contextmanager
def registered_executor(name: str, factory):
    register_executor(name, factory)
    try:
        yield factory
    finally:
        EXECUTORS.pop(name, None)


def diagonal_points(space, samples, seed):
    """Point i sets every range to start + i / (samples - 1) of the way to stop."""
    points = []
    for i in range(samples):
        share = i / (samples - 1)
        points.append({name: round(start + share * (stop - start), 12) for name, (start, stop) in space.items()})
    return points


DIAGONAL = Sampler(design="points along the diagonal of the ranges", count=lambda space, samples: samples,
                   points=diagonal_points, ranges=True)


def threads(workers, options):
    """Threads of this process."""
    options.refuse_scheduler("threads")
    return concurrent.futures.ThreadPoolExecutor(workers)


# --- samplers --------------------------------------------------------------------------------------


def test_a_registered_sampler_makes_the_points_and_runs_of_a_sweep(tmp_path):
    """Catches: a sampler name still checked against a fixed tuple somewhere (the experiment's
    validation, its range handling, the count of runs or the building of points)."""
    with registered_sampler("diagonal", DIAGONAL):
        experiment = tiny_experiment(sampler="diagonal", samples=3,
                                     sweep={"online_depth": {"start": 0.2, "stop": 0.6},
                                            "homophily": {"start": 0.0, "stop": 1.0}})
        result = run_sweep(experiment, tmp_path / "diagonal", workers=1, progress=False)
    recorded = read_json(tmp_path / "diagonal" / "experiment.json")
    assert recorded["sampler"] == "diagonal" and recorded["samples"] == 3
    assert recorded["points"] == [{"online_depth": 0.2, "homophily": 0.0}, {"online_depth": 0.4, "homophily": 0.5},
                                  {"online_depth": 0.6, "homophily": 1.0}]
    assert result.total == result.complete == 6 and not result.failed
    assert len(list((tmp_path / "diagonal" / "runs").glob("*/timeseries.csv"))) == 6


def test_a_sampler_is_held_to_the_count_of_runs_it_gave():
    """Catches: points built without comparing them to the count the runs were checked on, which
    would let a sampler that undercounts slip past the limit on runs."""
    undercounting = dataclasses.replace(DIAGONAL, count=lambda space, samples: 1)
    with registered_sampler("undercounting", undercounting), pytest.raises(ScenarioError) as caught:
        tiny_experiment(sampler="undercounting", samples=3, sweep={"online_depth": {"start": 0.2, "stop": 0.6}})
    assert "made 3 points where it counted 1" in str(caught.value)


def test_a_registered_sampler_with_an_analysis_is_analysed_as_its_built_in_twin():
    """Catches: the sensitivity analysis, its index names or a design's checks chosen by the names
    'morris' and 'sobol' (or a list of them taken once at import) instead of asked of the sampler."""
    sweep = {"online_depth": {"start": 0.0, "stop": 1.0}, "confidence": {"start": 0.2, "stop": 1.0}}
    with registered_sampler("saltelli", dataclasses.replace(SAMPLERS["sobol"])):
        assert "saltelli" in SENSITIVITY_SAMPLERS and sensitivity.INDICES["saltelli"] == sensitivity.INDICES["sobol"]
        twin = tiny_experiment(sampler="saltelli", samples=4, sweep=sweep, outcomes=["esteban_ray"])
        built_in = tiny_experiment(sampler="sobol", samples=4, sweep=sweep, outcomes=["esteban_ray"])
        assert twin.points == built_in.points and twin.ranges == built_in.ranges
        np.testing.assert_array_equal(twin.design(), built_in.design())
        design = built_in.design()
        table = pd.DataFrame({"point": range(len(design)), "esteban_ray": design[:, 0] + 0.1 * design[:, 1] ** 2})
        rows = sensitivity.analyze(twin, table)
        assert rows == sensitivity.analyze(built_in, table) and {"ST", "S1"} <= set(rows[0])
        with pytest.raises(ScenarioError, match="power of 2"):
            tiny_experiment(sampler="saltelli", samples=6, sweep=sweep)
        with pytest.raises(ScenarioError, match="needs a numeric range"):
            tiny_experiment(sampler="saltelli", samples=4, sweep={"recommender": ["random", "similarity"]})
    assert "saltelli" not in SENSITIVITY_SAMPLERS


# --- executors -------------------------------------------------------------------------------------


def test_a_registered_executor_gives_the_runs_of_the_local_one(tmp_path):
    """Catches: results that depend on the executor (seeds or tasks made differently for it), and an
    executor name still checked against a fixed tuple."""
    experiment = tiny_experiment(seed=4)
    run_sweep(experiment, tmp_path / "local", workers=1, progress=False)
    with registered_executor("threads", threads):
        result = run_sweep(experiment, tmp_path / "threads", workers=2, executor="threads", progress=False)
    assert result.complete == 4 and not result.failed
    local = sorted((tmp_path / "local" / "runs").glob("*/timeseries.csv"))
    assert len(local) == 4
    for path in local:
        assert path.read_bytes() == (tmp_path / "threads" / path.relative_to(tmp_path / "local")).read_bytes()
    assert "(threads, 2 workers)" in (tmp_path / "threads" / "sweep.log").read_text()


class _Stalled(concurrent.futures.Executor):
    """Futures that never finish, and a check that finds the executor gone."""

    def submit(self, function, /, *args, **kwargs):
        return concurrent.futures.Future()

    def check(self):
        raise ExecutorError("the stalled executor has no worker")


def test_an_executor_whose_check_fails_stops_the_sweep_before_anything_is_written(tmp_path):
    """Catches: a wait that never calls the executor's check() (a sweep hung on a cluster without
    workers), and a check that runs only for the built-in Dask executor."""

    def stalled(workers, options):
        """Never computes anything."""
        return _Stalled()

    with registered_executor("stalled", stalled), pytest.raises(ExecutorError, match="stalled executor has no"):
        run_sweep(tiny_experiment(), tmp_path / "stalled", workers=1, executor="stalled", progress=False)
    assert not (tmp_path / "stalled").exists()


def test_the_local_executor_refuses_a_scheduler(tmp_path):
    """Catches: a scheduler address silently ignored by an executor that takes none."""
    with pytest.raises(SimsolidarityError, match="the local executor takes no scheduler"):
        run_sweep(tiny_experiment(), tmp_path / "s", workers=1, scheduler="tcp://127.0.0.1:1", progress=False)
    assert not (tmp_path / "s").exists()


# --- names -----------------------------------------------------------------------------------------


def test_built_in_samplers_and_executors_are_replaced_only_on_purpose():
    """Catches: a registration that silently takes a built-in's name (every grid sweep would change),
    or one that refuses replace=True, or refuses the same definition registered again."""
    grid, local = SAMPLERS["grid"], EXECUTORS["local"]
    with pytest.raises(SamplerError, match="'grid' is a built-in sampler.*replace=True"):
        register_sampler("grid", DIAGONAL)
    with pytest.raises(SimsolidarityError, match="'local' is a built-in executor.*replace=True"):
        register_executor("local", threads)
    with pytest.raises(SamplerError, match="must be a Sampler"):
        register_sampler("not_a_sampler", diagonal_points)
    assert SAMPLERS["grid"] is grid and EXECUTORS["local"] is local
    try:
        assert register_sampler("grid", DIAGONAL, replace=True) is SAMPLERS["grid"] is DIAGONAL
        assert register_executor("local", replace=True)(threads) is EXECUTORS["local"] is threads
    finally:
        SAMPLERS["grid"], EXECUTORS["local"] = grid, local
    with registered_sampler("diagonal", DIAGONAL):
        register_sampler("diagonal", dataclasses.replace(DIAGONAL))  # the same definition, run again
        with pytest.raises(SamplerError, match="'diagonal' is taken by another sampler"):
            register_sampler("diagonal", dataclasses.replace(DIAGONAL, points=lambda space, samples, seed: []))


def test_unknown_names_suggest_the_nearest_registered_one(tmp_path):
    """Catches: a registered name missing from the suggestion or the list (a fixed tuple of names),
    and an unknown executor found only after the sweep folder was made."""
    with pytest.raises(ScenarioError, match="unknown sampler 'lhss' \\(did you mean 'lhs'\\?\\); known: grid, zip"):
        tiny_experiment(sampler="lhss")
    with registered_sampler("diagonal", DIAGONAL), pytest.raises(ScenarioError, match="did you mean 'diagonal'"):
        tiny_experiment(sampler="diagonl")
    with registered_executor("threads", threads), pytest.raises(SimsolidarityError) as caught:
        run_sweep(tiny_experiment(), tmp_path / "t", executor="thread", progress=False)
    assert "did you mean 'threads'" in str(caught.value) and "registered: local, dask, threads" in str(caught.value)
    assert not Path(tmp_path / "t").exists()
