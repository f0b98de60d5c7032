"""Hardening of the model: memory refused before it is allocated, bounded build time, recommenders that fail loudly.

The new names are imported inside the tests, so that each test (not the whole module) fails where
they are missing.
"""

import gc
import os
import time
import tracemalloc

import numpy as np
import pytest

from simsolidarity import OUTCOMES, SolidarityModel
from simsolidarity.model.parameters import resolve_parameters
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender

from .conftest import SMALL

BUILT_IN = ["random", "similarity", "popularity", "bridging", "local", "hybrid"]


@pytest.fixture
def register():
    """``register(name, function, **options)`` registers a recommender that is removed after the test."""
    names = []

    def add(name, function, **options):
        names.append(name)
        return register_recommender(name, **options)(function)

    yield add
    for name in names:
        RECOMMENDERS.pop(name, None)


def run(steps=2, **params):
    model = SolidarityModel({**SMALL, **params}, rng=1)
    for _ in range(steps):
        model.step()
    return model


# --- memory -------------------------------------------------------------------------------------


def peak_bytes(parameters, steps):
    """Peak of the memory traced while a model is built and stepped (numpy reports its arrays to tracemalloc)."""
    SolidarityModel(SMALL, rng=0).step()  # first-use imports and caches, outside the measure
    gc.collect()
    tracemalloc.start()
    try:
        model = SolidarityModel(parameters, rng=1)
        for _ in range(steps):
            model.step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "parameters",
    [
        {"n_people": 2_000},
        {"n_people": 20_000, "width": 159, "height": 159},
        {"n_people": 100_000, "width": 354, "height": 354},
        {"n_people": 2_000, "local_tie_radius": 20},  # a million candidate pairs on a dense grid
        {"n_people": 2_000, "width": 400, "height": 400, "local_tie_radius": 25},  # sparse: by buckets
        {"n_people": 2_000, "n_virtual_groups": 3_000},  # the score tables dominate
        {"n_people": 20_000, "width": 159, "height": 159, "max_memberships": 40, "n_topics": 50},
    ],
    ids=["2k", "20k", "100k", "radius-20", "sparse-radius-25", "3000-groups", "40-memberships"],
)
def test_the_estimate_bounds_the_measured_peak_within_a_factor_of_3(parameters):
    from simsolidarity.model.memory import estimate_memory

    steps = 3
    measured = peak_bytes(parameters, steps)
    estimate = estimate_memory(resolve_parameters(parameters), steps=steps, n_outcomes=len(OUTCOMES))
    assert measured <= estimate <= 3 * measured, f"estimate {estimate / measured:.2f} x the measured {measured}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("parameters", "driver"),
    [
        ({"n_people": 10**10, "width": 10**5, "height": 10**5}, "n_people"),
        ({"width": 10**7, "height": 10**7}, "block_size"),  # 10^12 blocks of 10 x 10 cells
        ({"n_topics": 10**7}, "n_topics"),
        ({"n_virtual_groups": 10**10}, "n_virtual_groups"),
        ({"max_memberships": 10**9}, "max_memberships"),
        ({"meetings_per_step": 10**9}, "meetings_per_step"),
        ({"width": 10**10, "height": 10**10}, "64-bit"),  # more cells than numpy can number
    ],
    ids=["people", "grid", "topics", "groups", "memberships", "meetings", "cells"],
)
def test_a_model_too_large_is_refused_at_once_before_allocating(parameters, driver):
    from simsolidarity.errors import CapacityError

    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CapacityError, match=driver) as refused:
            SolidarityModel(parameters, rng=1)
        elapsed, allocated = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0 and allocated < 10**7
    assert "64-bit" in str(refused.value) or " available" in str(refused.value)


def test_the_time_series_of_many_steps_counts_and_is_refused():
    from simsolidarity.errors import CapacityError
    from simsolidarity.model.memory import check_memory, estimate_memory

    parameters = resolve_parameters({})
    grown = estimate_memory(parameters, steps=1000, n_outcomes=18) - estimate_memory(parameters, n_outcomes=18)
    assert grown >= 1000 * 18 * 24  # at least a Python float per value
    with pytest.raises(CapacityError, match="steps"):
        check_memory(parameters, steps=10**13, n_outcomes=18)


def test_the_refusal_says_need_and_availability_in_human_units(monkeypatch):
    from simsolidarity.errors import CapacityError
    from simsolidarity.model import memory as model_module

    monkeypatch.setattr(model_module, "available_memory", lambda: 21_900_000_000)
    parameters = resolve_parameters({"n_people": 10**8, "width": 10**4, "height": 10**4, "n_topics": 10**4})
    with pytest.raises(CapacityError, match=r"needs about [\d.]+ TB, 21\.9 GB available.*interests.*n_topics"):
        model_module.check_memory(parameters)
    model_module.check_memory(resolve_parameters({}))  # the default model fits in 21.9 GB


def test_available_memory_reads_meminfo_and_falls_back_to_physical_pages(tmp_path):
    from simsolidarity.model.memory import available_memory

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24684092 kB\nMemAvailable:   2000 kB\n")
    assert available_memory(str(meminfo)) == 2000 * 1024
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert available_memory(str(tmp_path / "missing")) == physical


# --- time out of proportion to people -----------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "parameters",
    [
        {"n_people": 2000, "width": 50, "height": 50},  # dense: scanned offset by offset
        {"n_people": 300, "width": 3000, "height": 3000, "block_size": 3000},  # sparse: by buckets
    ],
    ids=["dense", "sparse"],
)
def test_a_huge_local_tie_radius_is_clamped_to_the_grid_and_fast(parameters):
    start = time.perf_counter()
    huge = SolidarityModel({**parameters, "local_tie_radius": 10**9}, rng=1)
    assert time.perf_counter() - start < 5.0
    whole_grid = max(parameters["width"], parameters["height"])
    within_grid = SolidarityModel({**parameters, "local_tie_radius": whole_grid}, rng=1)
    assert np.array_equal(huge.local_ties, within_grid.local_ties)


@pytest.mark.timeout(30)
def test_a_huge_sparse_grid_costs_in_proportion_to_people():
    start = time.perf_counter()
    model = SolidarityModel(n_people=2000, width=10**6, height=10**6, block_size=10**6, local_tie_radius=10**4, rng=1)
    model.step()
    assert time.perf_counter() - start < 5.0
    # About 2000^2 / 2 x (2 x 10^4)^2 / 10^12 = 800 pairs of people are within the radius.
    assert len(model.local_ties) < 800


@pytest.mark.timeout(30)
def test_many_topics_with_few_people_build_and_step_fast():
    start = time.perf_counter()
    model = SolidarityModel(n_people=20, width=10, height=10, n_topics=10**6, n_virtual_groups=2, rng=1)
    model.step()
    assert time.perf_counter() - start < 3.0  # one Python iteration a topic took 8 s
    occupied = model.group_size > 0
    assert np.allclose(model.group_topic[occupied].sum(axis=1), 1.0)  # members' interests, averaged


@pytest.mark.parametrize("radius", [1, 2, 5, 30])
def test_both_ways_of_finding_neighbours_give_every_pair_within_the_radius_once_in_one_order(radius):
    from simsolidarity.model.model import _pairs_by_bucket, _pairs_by_offset

    rng = np.random.default_rng(radius)
    width, height, n = 37, 23, 120
    cells = rng.choice(width * height, size=n, replace=False)
    position = np.column_stack([cells % width, cells // width])
    dense, sparse = _pairs_by_offset(position, width, height, radius), _pairs_by_bucket(position, width, radius)
    assert np.array_equal(dense, sparse)
    chebyshev = np.abs(position[:, None] - position[None, :]).max(axis=2)
    assert len(dense) == np.count_nonzero(np.triu(chebyshev <= radius, k=1))
    assert {tuple(sorted(pair)) for pair in dense.tolist()} == set(zip(*np.nonzero(np.triu(chebyshev <= radius, k=1))))


# --- recommenders that fail loudly --------------------------------------------------------------


def raw_opinion_distance(model, people):
    """A user's bug: reads group_opinion raw, NaN for every group nobody has joined."""
    return -np.abs(model.opinion[people, None] - model.group_opinion[None, :])


def test_nan_scores_are_refused_naming_the_recommender_and_the_count(register):
    from simsolidarity.errors import RecommenderError

    register("raw_distance", raw_opinion_distance)
    with pytest.raises(RecommenderError, match=r"'raw_distance' returned \d+ NaN among its \d+ x 12") as refused:
        run(steps=1, recommender="raw_distance")
    assert "group_opinion" in str(refused.value)  # says where NaN comes from


def test_plus_inf_is_refused_and_minus_inf_means_never_show(register):
    from simsolidarity.errors import RecommenderError

    def hiding_group_0(model, people):
        scores = model.interest_similarity(people)
        scores[:, 0] = -np.inf
        return scores

    register("hiding", hiding_group_0)
    model = run(steps=5, recommender="hiding", join_threshold=0.0)
    assert np.count_nonzero(model.memberships >= 0) > 0 and not np.any(model.memberships == 0)

    def pushing_group_0(model, people):
        scores = model.interest_similarity(people)
        scores[:, 0] = np.inf
        return scores

    register("pushing", pushing_group_0)
    with pytest.raises(RecommenderError, match=r"'pushing' returned \d+ \+inf"):
        run(steps=1, recommender="pushing")


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        (lambda model, people: np.zeros(len(people)), r"shape \(\d+,\): expected \(people, groups\)"),
        (lambda model, people: np.zeros((model.n_virtual_groups, len(people))), "swapped"),
        (lambda model, people: np.zeros((len(people), model.n_virtual_groups + 1)), r"shape \(\d+, 13\)"),
        (lambda model, people: None, "None: expected"),
    ],
    ids=["1-D", "transposed", "wrong-width", "none"],
)
def test_scores_of_the_wrong_shape_are_refused(register, scores, expected):
    from simsolidarity.errors import RecommenderError

    register("misshapen", scores)
    with pytest.raises(RecommenderError, match=f"'misshapen' returned (.* )?{expected}"):
        run(steps=1, recommender="misshapen")


def broadcasting_bug(model, people):
    return np.broadcast_to(np.zeros(3), (len(people), model.n_virtual_groups))


def test_an_exception_inside_a_recommender_says_what_and_where_and_is_chained(register):
    from simsolidarity.errors import RecommenderError

    register("buggy", broadcasting_bug)
    with pytest.raises(RecommenderError) as refused:
        run(steps=1, recommender="buggy")
    message = str(refused.value)
    # Raised inside numpy; the line reported is the user's call, the innermost outside libraries.
    where = f"{broadcasting_bug.__code__.co_filename}:{broadcasting_bug.__code__.co_firstlineno + 1}"
    assert "'buggy' raised ValueError: " in message and message.endswith(where) and "\n" not in message
    assert isinstance(refused.value.__cause__, ValueError)


def test_a_built_in_recommender_is_replaced_only_with_replace():
    from simsolidarity.errors import RecommenderError

    original = RECOMMENDERS["similarity"]

    def my_similarity(model, people):
        return model.interest_similarity(people)

    try:
        with pytest.raises(RecommenderError, match="'similarity' is a built-in recommender.*replace=True"):
            register_recommender("similarity")(my_similarity)
        assert RECOMMENDERS["similarity"] is original
        register_recommender("similarity", replace=True)(my_similarity)
        assert RECOMMENDERS["similarity"] is my_similarity
    finally:
        RECOMMENDERS["similarity"] = original


def definition():
    """The same ``def`` run once per call, as a notebook cell or a plugin module run again."""

    def again(model, people):
        return model.interest_similarity(people)

    return again


def test_the_same_definition_run_again_takes_its_name_again_and_nothing_else_does(register):
    from simsolidarity.errors import RecommenderError

    first, second = definition(), definition()
    register("again", first)
    register("again", second)
    assert RECOMMENDERS["again"] is second
    with pytest.raises(RecommenderError, match="'again' is taken by .*definition.<locals>.again"):
        register_recommender("again")(raw_opinion_distance)


def test_another_function_under_a_users_name_is_refused_unless_replace(register):
    from simsolidarity.errors import RecommenderError

    register("mine", definition())
    with pytest.raises(RecommenderError, match="'mine' is taken by.*replace=True"):
        register_recommender("mine")(raw_opinion_distance)
    register("mine", raw_opinion_distance, replace=True)
    assert RECOMMENDERS["mine"] is raw_opinion_distance


@pytest.mark.parametrize("name", ["", "   ", None, 42])
def test_a_recommenders_name_is_a_non_empty_string(name):
    from simsolidarity.errors import RecommenderError

    with pytest.raises(RecommenderError, match="non-empty string"):
        register_recommender(name)(raw_opinion_distance)
    assert name not in RECOMMENDERS


def plus_inf_scores(model, people):
    return np.full((len(people), model.n_virtual_groups), np.inf)


def raising(model, people):
    return {}["no such key"]


def transposed(model, people):
    return model.interest_similarity(people).T


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (raw_opinion_distance, "NaN"),
        (plus_inf_scores, r"\+inf"),
        (raising, "raised KeyError"),
        (transposed, "swapped"),
        (None, "no recommender is registered"),
    ],
    ids=["nan", "inf", "raises", "shape", "unregistered"],
)
def test_the_probe_catches_each_failure(register, function, expected):
    from simsolidarity.errors import RecommenderError
    from simsolidarity.model.recommenders import probe_recommender

    if function is not None:
        register("probed", function)
    with pytest.raises(RecommenderError, match=f"'probed'.*{expected}|{expected}.*'probed'"):
        probe_recommender("probed", {"n_people": 5000, "width": 100, "height": 100})


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_probe_passes_every_built_in_recommender_quickly_on_a_cut_down_model(name):
    from simsolidarity.model.recommenders import BUILT_IN_RECOMMENDERS, probe_recommender

    assert name in BUILT_IN_RECOMMENDERS
    huge = {"n_people": 10**8, "width": 10**4, "height": 10**4, "n_virtual_groups": 10**6, "n_topics": 10**5,
            "max_memberships": 10**4, "meetings_per_step": 10**9, "local_tie_radius": 10**6}
    start = time.perf_counter()
    probe_recommender(name, huge)
    probe_recommender(name, {})
    # A probe of the huge model itself would take minutes; the cut-down ones take tens of milliseconds, plus
    # loading a kernel or two from numba's cache the first time: 2 s leaves room for this machine's drift.
    assert time.perf_counter() - start < 2.0
