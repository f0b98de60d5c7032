"""The browser app: Mesa's SolaraViz for the solidarity model, started from a scenario.

Run it with ``simsolidarity viz [SCENARIO]``, or, as with any Mesa app,
``solara run simsolidarity/viz/app.py`` (the scenario then comes from the environment variable
``SIMSOLIDARITY_SCENARIO``, a file or a ready scenario name; default ``baseline``).

Each browser tab gets a model of its own, built from the scenario; Mesa's Reset builds a new one
from the controls (see :mod:`simsolidarity.viz.controls`).
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import SolaraViz

from simsolidarity.running.scenario import Scenario, load_scenario
from simsolidarity.viz.appmodel import VizModel
from simsolidarity.viz.components import app_components
from simsolidarity.viz.controls import model_params
from simsolidarity.viz.server import SCENARIO_VARIABLE


def app_scenario() -> Scenario:
    """The scenario named by ``$SIMSOLIDARITY_SCENARIO``, or the baseline."""
    return load_scenario(os.environ.get(SCENARIO_VARIABLE) or "baseline")


def initial_model(scenario: Scenario) -> VizModel:
    """The model the page opens with: the scenario's parameters and seed."""
    return VizModel(scenario.model, rng=scenario.seed, scenario_name=scenario.name)


scenario = app_scenario()


@solara.component
def Page():
    """SolaraViz with the app's cards and controls, around a model of this browser tab's own."""
    model = solara.use_memo(lambda: initial_model(scenario), [])
    return SolaraViz(
        model,
        components=app_components(),
        model_params=model_params(scenario),
        name=f"simsolidarity: {scenario.name}",
    )


page = Page()
