"""The model layer's public face: the typed parameters, the models' signatures, the outcome registry."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import pydoc
import re
import subprocess
import sys

import numpy as np
import pytest

from simsolidarity.analysis.plots import PLOTS, render, save_plots
from simsolidarity.errors import ParameterError, SimsolidarityError
from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import (
    BUILT_IN_OUTCOMES,
    OUTCOMES,
    OutcomeError,
    measure,
    plot_outcomes,
    register_outcome,
    run_plot_names,
)
from simsolidarity.model.parameters import PARAMETERS, Parameters, resolve_parameters
from simsolidarity.model.reference import ReferenceModel
from simsolidarity.running.scenario import ScenarioError, scenario_from_dict

from .conftest import SMALL

MODELS = [SolidarityModel, ReferenceModel]
#: A population small enough for the reference model to step quickly.
TINY = {**SMALL, "n_people": 120}

#: Each built-in run plot of outcome lines, its legend from top to bottom (the lines, then a reference line).
BUILT_IN_LEGENDS = {
    "polarization": ["Esteban-Ray polarization", "Duclos-Esteban-Ray polarization", "opinion variance",
                     "bimodality coefficient", "uniform (BC = 5/9)"],
    "echo_chamber": ["echo-chamber index", "exposure diversity (std)"],
    "support": ["support received", "through online ties", "through face-to-face ties",
                "received, most isolated quartile", "share of needs unmet"],
    "belonging": ["everyone", "most isolated quartile"],
    "structure": ["Gini of group sizes", "share of contacts online", "support across camps",
                  "support from one's own block"],
}


@pytest.fixture
def registry():
    """The outcome registry as it was before the test, put back afterwards."""
    saved = dict(OUTCOMES)
    yield OUTCOMES
    OUTCOMES.clear()
    OUTCOMES.update(saved)


def people_in_groups(state) -> float:
    """Share of people in at least one virtual group."""
    return float((state.memberships >= 0).any(axis=1).mean())


def _series(names, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    return {"step": np.arange(steps), **{name: rng.random(steps) for name in names}}


def _legend(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


# --- Parameters -----------------------------------------------------------------------------------


def test_parameters_has_one_typed_field_per_schema_parameter_in_order():
    """Catches: a parameter added to the schema but not to Parameters, or a field with another type or default."""
    fields = dataclasses.fields(Parameters)
    assert [f.name for f in fields] == list(PARAMETERS)
    assert [f.type for f in fields] == [p.type for p in PARAMETERS.values()]
    assert [f.default for f in fields] == [p.default for p in PARAMETERS.values()]
    assert Parameters().as_dict() == resolve_parameters()


def test_parameters_are_frozen_slotted_and_survive_a_pickle_round_trip():
    """Catches: a mutable parameters object (a rule changed mid-run), and one that a worker process cannot unpickle."""
    params = Parameters(influence=0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.influence = 0.1
    assert not hasattr(params, "__dict__")
    assert pickle.loads(pickle.dumps(params)) == params


def test_building_parameters_validates_and_converts_through_the_schema():
    """Catches: a constructor that skips the schema (a bad value accepted, an int kept for a float parameter)."""
    assert Parameters(confidence=1).confidence == 1.0 and isinstance(Parameters(confidence=1).confidence, float)
    with pytest.raises(ParameterError) as caught:
        Parameters(influence=0.7)
    assert caught.value.name == "influence" and "(0, 0.5]" in str(caught.value)
    with pytest.raises(ParameterError, match="one person per cell"):
        Parameters(n_people=101, width=10, height=10)
    with pytest.raises(ParameterError, match="influence"):
        dataclasses.replace(Parameters(), influence=0.0)


def test_parameters_from_a_mapping_name_an_unknown_parameter_and_let_overrides_win():
    """Catches: an unknown name in a mapping passed on as a TypeError (no suggestion), or overrides losing."""
    with pytest.raises(ParameterError, match="did you mean 'influence'"):
        Parameters.from_mapping({"influnce": 0.3})
    params = Parameters.from_mapping({"influence": 0.3, "confidence": 0.4}, influence=0.1)
    assert (params.influence, params.confidence) == (0.1, 0.4)
    assert Parameters.from_mapping(params) == params


def test_resolve_parameters_gives_the_parameters_object_as_a_dict():
    """Catches: two validation paths that drift apart (resolve_parameters and Parameters disagreeing)."""
    given = {"confidence": 1, "n_people": 10, "recommender": "bridging"}
    assert resolve_parameters(given) == Parameters.from_mapping(given).as_dict()
    assert list(resolve_parameters(given)) == list(PARAMETERS)


@pytest.mark.parametrize("model_class", MODELS, ids=lambda kind: kind.__name__)
def test_models_hold_the_parameters_object_and_the_plain_dict(model_class):
    """Catches: model.params and model.parameters disagreeing, or a Parameters not accepted as the first argument."""
    params = Parameters.from_mapping(TINY, influence=0.3)
    model = model_class(params, rng=1)
    assert model.params == params
    assert model.parameters == params.as_dict() and type(model.parameters) is dict
    assert model_class({**TINY, "influence": 0.3}, rng=1).params == params


# --- the models' signature ------------------------------------------------------------------------


@pytest.mark.parametrize("model_class", MODELS, ids=lambda kind: kind.__name__)
def test_signature_shows_every_schema_parameter_as_a_keyword_with_its_default(model_class):
    """Catches: a parameter added to the schema but not to the signature, or a default or type that differs."""
    signature = inspect.signature(model_class)
    parameters = list(signature.parameters.values())
    assert [p.name for p in parameters[:3]] == ["parameters", "rng", "outcomes"]
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and parameters[0].default is None
    keywords = parameters[3:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[1:])
    assert [(p.name, p.default, p.annotation) for p in keywords] == [
        (name, p.default, p.type) for name, p in PARAMETERS.items()
    ]
    assert inspect.signature(model_class.__init__).parameters.keys() == {"self", *signature.parameters}


@pytest.mark.parametrize("model_class", MODELS, ids=lambda kind: kind.__name__)
def test_signature_refuses_a_misspelled_parameter(model_class):
    """Catches: a signature that still ends in **kwargs, which would accept any misspelling."""
    signature = inspect.signature(model_class)
    signature.bind({"n_people": 10}, rng=1, influence=0.1)
    with pytest.raises(TypeError):
        signature.bind(influnce=0.1)


@pytest.mark.parametrize("model_class", MODELS, ids=lambda kind: kind.__name__)
def test_help_lists_every_parameter_with_its_meaning(model_class):
    """Catches: a class docstring that no longer lists the schema's parameters."""
    text = " ".join(pydoc.render_doc(model_class, renderer=pydoc.plaintext).split())
    for name, p in PARAMETERS.items():
        assert f"{name} (" in text and " ".join(p.meaning.split()) in text


@pytest.mark.parametrize("model_class", MODELS, ids=lambda kind: kind.__name__)
def test_keywords_build_the_same_model_as_a_mapping_and_win_over_it(model_class):
    """Catches: keywords read differently from the mapping, or the mapping winning over a keyword."""
    by_mapping = model_class({**TINY, "influence": 0.4, "confidence": 1.0}, rng=5)
    by_keywords = model_class(rng=5, **TINY, influence=0.4, confidence=1.0)
    overridden = model_class({**TINY, "influence": 0.1, "confidence": 1.0}, rng=5, influence=0.4)
    for model in (by_mapping, by_keywords, overridden):
        for _ in range(3):
            model.step()
    assert np.array_equal(by_keywords.opinion, by_mapping.opinion)
    assert np.array_equal(overridden.opinion, by_mapping.opinion)


def test_a_subclass_keeps_its_own_signature():
    """Catches: the schema's signature set on the class, where a subclass (the browser app's model) inherits it."""
    from simsolidarity.viz.appmodel import VizModel

    names = inspect.signature(VizModel).parameters
    assert "scenario_name" in names and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in names.values())


def test_mesa_reset_builds_a_model_from_the_signature_without_a_scenario_keyword():
    """Catches: a fixed signature that makes Mesa's Reset pass ``scenario=``, which the model would refuse."""
    solara_viz = pytest.importorskip("mesa.visualization.solara_viz")
    model = SolidarityModel(TINY, rng=1)
    kwargs = solara_viz._build_model_init_kwargs(
        model, {**TINY, "influence": 0.3, "rng": 2}, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    assert "scenario" not in kwargs
    assert type(model)(**kwargs).params.influence == 0.3


# --- the outcome registry -------------------------------------------------------------------------


def test_a_registered_outcome_is_listed_recorded_and_measured(registry):
    """Catches: a registration that a model's outcomes=[...] or measure() does not see."""
    register_outcome("people_in_groups", people_in_groups, meaning="share of people in a virtual group",
                     family="structure")
    assert list(OUTCOMES)[-1] == "people_in_groups" and OUTCOMES["people_in_groups"].label == "people_in_groups"
    model = SolidarityModel(SMALL, rng=3, outcomes=["people_in_groups", "belonging"])
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == ["step", "people_in_groups", "belonging"]
    assert frame["people_in_groups"].iloc[-1] == people_in_groups(model) > 0
    assert measure(model)["people_in_groups"] == people_in_groups(model)
    reference = ReferenceModel(TINY, rng=3, outcomes=["people_in_groups"])
    reference.step()
    assert reference.history[-1]["people_in_groups"] == people_in_groups(reference)


def test_register_outcome_works_as_a_decorator(registry):
    """Catches: a decorator form that registers nothing or replaces the function by something else."""

    @register_outcome("mean_opinion", meaning="mean opinion", family="polarization")
    def mean_opinion(state) -> float:
        return float(state.opinion.mean())

    assert callable(mean_opinion) and OUTCOMES["mean_opinion"].report is mean_opinion


def test_a_built_in_outcome_is_replaced_only_with_replace_true(registry):
    """Catches: a built-in outcome silently taken over by a user's function of the same name."""
    with pytest.raises(OutcomeError, match="built-in outcome"):
        register_outcome("belonging", people_in_groups, meaning="x", family="belonging")
    assert OUTCOMES["belonging"] is BUILT_IN_OUTCOMES["belonging"]
    register_outcome("belonging", people_in_groups, meaning="x", family="belonging", replace=True)
    assert OUTCOMES["belonging"].report is people_in_groups
    assert list(OUTCOMES) == list(BUILT_IN_OUTCOMES)  # a replaced outcome keeps its column


def test_another_function_cannot_take_a_registered_name_but_the_same_definition_can(registry):
    """Catches: a name taken by any function (two plugins clashing), or a notebook cell that cannot run twice."""

    def definition():
        def share(state) -> float:
            return 0.5

        return share

    register_outcome("half", definition(), meaning="a half", family="structure")
    register_outcome("half", definition(), meaning="a half, again", family="structure")
    assert OUTCOMES["half"].meaning == "a half, again"
    with pytest.raises(OutcomeError, match="taken by"):
        register_outcome("half", people_in_groups, meaning="x", family="structure")


@pytest.mark.parametrize(
    "name, report, plots, fragment",
    [
        ("step", people_in_groups, (), "step column"),
        ("two words", people_in_groups, (), "letters, digits and _"),
        (3, people_in_groups, (), "letters, digits and _"),
        ("fine", "not callable", (), "report(state)"),
        ("fine", people_in_groups, "support", "sequence of plot names"),
        ("fine", people_in_groups, ("opinions",), "opinion histograms"),
        ("fine", people_in_groups, ("my plot",), "letters, digits and _"),
    ],
)
def test_a_bad_registration_is_refused_with_a_clear_error(registry, name, report, plots, fragment):
    """Catches: an outcome named like the step column, a file-breaking name, a string taken for a list of plots."""
    with pytest.raises(OutcomeError, match=re.escape(fragment)) as caught:
        register_outcome(name, report, meaning="m", family="f", plots=plots)
    assert isinstance(caught.value, SimsolidarityError)
    assert "fine" not in OUTCOMES


def test_an_unknown_outcome_name_is_an_outcome_error():
    """Catches: a model that accepts an outcome name nobody registered."""
    with pytest.raises(OutcomeError, match="unknown outcome 'nothing'"):
        SolidarityModel(TINY, outcomes=["nothing"])


def test_every_built_in_outcome_in_a_run_plot_keeps_its_label_and_place():
    """Catches: an outcome dropped from its plot, a label changed, or lines drawn in another order."""
    names = [name for name in run_plot_names() if name != "opinions"]
    assert names == list(BUILT_IN_LEGENDS)
    series = _series(OUTCOMES)
    for plot, legend in BUILT_IN_LEGENDS.items():
        assert _legend(render(plot, series, {}, "test")) == legend
    assert list(PLOTS) == [*BUILT_IN_LEGENDS, "opinions"]


def test_a_registered_outcome_naming_a_new_plot_is_drawn(registry, tmp_path):
    """Catches: a plot name the registry knows but the drawing code does not, so a user's outcome cannot be drawn."""
    register_outcome("people_in_groups", people_in_groups, meaning="share of people in a virtual group",
                     family="structure", plots=("my_plot", "structure"), label="in a group")
    assert run_plot_names()[-2:] == ("my_plot", "opinions") and plot_outcomes("my_plot") == ("people_in_groups",)
    series = _series(OUTCOMES)
    written = save_plots(tmp_path, ("my_plot",), series, {}, "test")
    assert written == [tmp_path / "my_plot.png"] and written[0].stat().st_size > 0
    figure = render("my_plot", series, {}, "test")
    assert _legend(figure) == ["in a group"] and figure.get_suptitle() == "test: my_plot"
    assert _legend(render("structure", series, {}, "test"))[-1] == "in a group"


def test_a_scenario_may_name_a_registered_plot_and_collects_its_outcomes(registry):
    """Catches: scenario validation against a fixed list of plots instead of the registry."""
    data = {"name": "mine", "model": SMALL, "outputs": {"outcomes": ["belonging"], "plots": ["my_plot"]}}
    with pytest.raises(ScenarioError, match="outputs.plots"):
        scenario_from_dict(data)
    register_outcome("people_in_groups", people_in_groups, meaning="share of people in a virtual group",
                     family="structure", plots=("my_plot",))
    scenario = scenario_from_dict(data)
    assert scenario.outputs.plots == ("my_plot",)
    assert scenario.collected_outcomes == ("belonging", "people_in_groups")


#: Run in a fresh interpreter: a process that has run other tests may hold other threads (a Dask client's
#: IO loop), from which the plots are rightly drawn one by one, never forked.
SIDE_BY_SIDE = """
import sys
from concurrent import futures
from pathlib import Path
import numpy as np
from simsolidarity.analysis import plots
from simsolidarity.model.outcomes import OUTCOMES, register_outcome, run_plot_names

register_outcome("people_in_groups", lambda s: 0.5, meaning="share of people in a virtual group",
                 family="structure", plots=("my_plot",), label="in a group")
folder = Path(sys.argv[1])
rng = np.random.default_rng(0)
series = {"step": np.arange(6), **{name: rng.random(6) for name in OUTCOMES}}
snapshots = {0: np.linspace(-1, 1, 50), 10: np.linspace(-0.5, 0.5, 50)}
names = run_plot_names()
pools, pool = [], futures.ProcessPoolExecutor
futures.ProcessPoolExecutor = lambda *a, **k: pools.append(k["mp_context"].get_start_method()) or pool(*a, **k)
plots.usable_cores = lambda: 2
forked = plots.save_plots(folder / "forked", names, series, snapshots, "test")
try:
    plots.save_plots(folder / "failing", ("polarization", "support"), {"step": np.arange(3.0)}, {}, "test")
except KeyError:
    failed = True
assert pools == ["fork", "fork"] and failed, pools
plots.usable_cores = lambda: 1
here = plots.save_plots(folder / "here", names, series, snapshots, "test")
assert pools == ["fork", "fork"]
assert [p.name for p in forked] == [p.name for p in here] == [f"{name}.png" for name in names]
assert all(a.read_bytes() == b.read_bytes() for a, b in zip(forked, here, strict=True))
"""


def test_plots_drawn_side_by_side_are_the_plots_drawn_one_by_one(tmp_path):
    """The run's plots drawn in forked processes are, byte for byte, those drawn in this process, and an error
    in a forked drawer reaches the caller.

    Catches: a forked drawer given another plot's name or path, a user's plot missing from the children (the
    registry not inherited), a plot that failed in a child left unnoticed (its result never asked for), or
    the plots never drawn side by side.
    """
    done = subprocess.run([sys.executable, "-c", SIDE_BY_SIDE, str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
