"""The parameter schema: canonical names, defaults, and a clear error for each class of bad value."""

import math

import pytest

from simsolidarity import PARAMETERS, ParameterError, SolidarityModel, defaults, resolve_parameters

# The canonical names of DESIGN.md: the schema must hold exactly these.
CANONICAL = [
    "n_people",
    "width",
    "height",
    "block_size",
    "local_tie_radius",
    "isolation_mean",
    "isolation_concentration",
    "online_share",
    "online_activity",
    "n_topics",
    "n_virtual_groups",
    "max_memberships",
    "join_threshold",
    "leave_threshold",
    "recommender",
    "n_recommendations",
    "homophily",
    "diversity_weight",
    "confidence",
    "influence",
    "meetings_per_step",
    "need_rate",
    "online_depth",
    "offline_depth",
    "depth_need",
    "belonging_rate",
    "compensation",
    "leave_belonging",
    "feed_bias",
]


def test_schema_holds_exactly_the_canonical_names():
    assert list(PARAMETERS) == CANONICAL


def test_every_parameter_has_a_meaning_and_its_default_validates():
    assert resolve_parameters() == defaults()
    for p in PARAMETERS.values():
        assert p.meaning and p.type in (int, float, str)
        assert p.validate(p.default) == p.default


def test_defaults_are_filled_in_and_values_converted():
    resolved = resolve_parameters({"confidence": 1, "n_people": 10})
    assert resolved["confidence"] == 1.0 and isinstance(resolved["confidence"], float)
    assert resolved["n_people"] == 10
    assert resolved["influence"] == PARAMETERS["influence"].default


@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("n_people", -5, "integer"),  # negative count
        ("n_virtual_groups", -1, "integer"),
        ("online_depth", 1.5, "[0, 1]"),  # depth outside [0, 1]
        ("offline_depth", -0.1, "[0, 1]"),
        ("confidence", 0.0, "(0, 2]"),  # open bound
        ("influence", 0.6, "(0, 0.5]"),
        ("recommender", "telepathy", "registered recommenders"),  # unknown recommender
        ("confidence", "wide", "a number"),  # wrong type
        ("n_people", 10.5, "integer"),
        ("online_share", True, "a number"),
        ("recommender", 3, "a registered recommender name"),
        ("homophily", math.nan, "a finite number"),
        ("isolation_concentration", math.inf, "a finite number in (0, inf)"),
    ],
)
def test_bad_values_name_the_parameter_the_value_and_what_was_expected(name, value, fragment):
    with pytest.raises(ParameterError) as caught:
        SolidarityModel({name: value})
    error = caught.value
    assert error.name == name
    assert error.value is value or error.value == value
    assert fragment in str(error)
    assert str(error).startswith(name)


def test_grid_too_small_for_the_population():
    with pytest.raises(ParameterError, match="one person per cell") as caught:
        SolidarityModel(n_people=101, width=10, height=10)
    assert caught.value.name == "n_people"


def test_unknown_name_suggests_the_nearest_canonical_one():
    with pytest.raises(ParameterError, match="did you mean 'confidence'") as caught:
        SolidarityModel(confidance=0.3)
    assert caught.value.name == "confidance"
