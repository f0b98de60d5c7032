"""The browser app: Mesa's model controller and the app's cards, around a model of the browser tab's own.

Run it with ``simsolidarity viz [SCENARIO]``, or, as with any Solara app,
``solara run simsolidarity/viz/app.py`` (the scenario then comes from the environment variable
``SIMSOLIDARITY_SCENARIO``, a file or a ready scenario name; default ``baseline``).

The page, at 1400 x 900 pixels: on the left, Mesa's Reset, Play and Step (its ``ModelController``) with
the step reached, the step the run stops at and the speed in plain words; saving the time series and
the settings; every parameter (:mod:`simsolidarity.viz.controls`). On the right, the essay's four
questions (polarization, echo chambers, support, belonging) with the map and the network of virtual
groups beside them, all in view without scrolling; below them, the opinions and the groups' sizes.
"""

from __future__ import annotations

import os

import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from simsolidarity.running.scenario import Scenario, load_scenario
from simsolidarity.viz.appmodel import VizModel
from simsolidarity.viz.components import model_summary, page_cards
from simsolidarity.viz.controls import DEFAULT_SPEED, SPEEDS, Settings, reset_arguments
from simsolidarity.viz.export import settings_yaml, timeseries_csv
from simsolidarity.viz.server import SCENARIO_VARIABLE

#: The page's own styles: cards three to a row that fit a 1400 x 900 window, pictures at their card's width.
STYLE = """
.simsolidarity-grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; }
.simsolidarity-card .simsolidarity-picture, .simsolidarity-card img { width: 100%; height: auto; display: block; }
.simsolidarity-card .v-btn { min-width: 0; }
.simsolidarity-page { padding: 0 8px 40px 8px; }
.simsolidarity-bar { height: 48px; }
.simsolidarity-title { font-size: 1.25em; font-weight: 500; margin: 0; }
.simsolidarity-side { width: 320px; min-width: 320px; max-height: calc(100vh - 56px); overflow-y: auto; }
.simsolidarity-main { flex: 1 1 auto; min-width: 0; }
.simsolidarity-meaning { font-size: 0.7em; color: #757575; line-height: 1.2; }
.simsolidarity-card .v-card__title { padding: 0; }
.simsolidarity-map-colour .v-input__slot { min-height: 28px !important; }
"""


def app_scenario() -> Scenario:
    """The scenario named by ``$SIMSOLIDARITY_SCENARIO``, or the baseline."""
    return load_scenario(os.environ.get(SCENARIO_VARIABLE) or "baseline")


def initial_model(scenario: Scenario) -> VizModel:
    """The model the page opens with: the scenario's parameters and seed, stopping at its ``steps``."""
    return VizModel(scenario.model, rng=scenario.seed, scenario_name=scenario.name, run_until=scenario.steps)


scenario = app_scenario()


def step_reached(model: VizModel) -> str:
    """The step reached and where the run stops: ``step N of M``, and a word when it has ended."""
    end = "" if model.run_until is None else f" of {model.run_until}"
    done = " (the run has ended: raise 'run until step' to go on)" if not model.running else ""
    return f"step {model.steps}{end}{done}"


@solara.component
def Cards(model: VizModel, run_until: int | None):
    """The step reached, the model's name and the cards, drawn again after each step and when the end step
    (``run_until``, the model's) changes.

    The one reader of Mesa's step counter on the page: each reader has the page drawn again at every step.
    """
    version = update_counter.get()
    with solara.Column(gap="4px", classes=["simsolidarity-main"]) as main:
        with solara.Row(gap="16px", style={"align-items": "baseline"}):
            solara.Text(step_reached(model), classes=["simsolidarity-step"], style={"font-weight": "bold"})
            solara.Text(model_summary(model), classes=["simsolidarity-summary"],
                        style={"font-size": "0.8em", "color": "#757575"})
        with solara.Div(classes=["simsolidarity-grid"]):
            page_cards(model, version)
    return main


@solara.component
def SaveButtons(model: VizModel, scenario: Scenario):
    """Save the time series (CSV) and the settings (a scenario file ``simsolidarity run`` takes)."""
    csv = solara.use_memo(lambda: lambda: timeseries_csv(model), [model])
    settings = solara.use_memo(lambda: lambda: settings_yaml(model, scenario), [model])
    solara.FileDownload(csv, filename=f"{scenario.name}-timeseries.csv", label="time series (CSV)",
                        mime_type="text/csv")
    solara.FileDownload(settings, filename=f"{scenario.name}-settings.yaml", label="settings (scenario YAML)",
                        mime_type="application/yaml")
    solara.Text("run saved settings with: simsolidarity run FILE", style={"font-size": "0.75em", "color": "#757575"})


@solara.component
def Page():
    """The app: controls on the left, the cards on the right, around a model of this browser tab's own."""
    first = solara.use_memo(lambda: initial_model(scenario), [])
    model = solara.use_reactive(first)
    edits = solara.use_reactive({})
    seed_text = solara.use_reactive(str(scenario.seed))
    run_until = solara.use_reactive(scenario.steps)
    speed = solara.use_reactive(DEFAULT_SPEED)
    play_interval = solara.use_reactive(SPEEDS[DEFAULT_SPEED][0])
    render_interval = solara.use_reactive(SPEEDS[DEFAULT_SPEED][1])
    use_threads = solara.use_reactive(False)

    def set_run_until(value: int | None) -> None:
        if value is not None and value >= 0:
            run_until.set(value)
            model.value.stop_at(value)

    def set_speed(value: str) -> None:
        speed.set(value)
        play_interval.set(SPEEDS[value][0])
        render_interval.set(SPEEDS[value][1])

    with solara.Column(gap="0px", classes=["simsolidarity-page"]) as page:
        solara.Title(f"simsolidarity: {scenario.name}")
        solara.Style(STYLE)
        with solara.Row(classes=["simsolidarity-bar"], style={"align-items": "center"}):
            solara.v.Html(tag="h1", children=[f"simsolidarity: {scenario.name}"], class_="simsolidarity-title")
            solara.v.Spacer()
            solara.lab.ThemeToggle()
        with solara.Row(gap="8px", style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
            with solara.Column(gap="8px", classes=["simsolidarity-side"]):
                with solara.Card("Run", margin=0):
                    # A new controller for a new end step: Mesa's keeps whether the run may go on (its Reset
                    # sets that itself, so the controller stays, and a click just after Reset is not lost).
                    ModelController(model, model_parameters=reset_arguments(scenario, edits.value, seed_text.value,
                                                                            run_until.value),
                                    play_interval=play_interval, render_interval=render_interval,
                                    use_threads=use_threads).key(f"controller-{model.value.run_until}")
                    solara.InputInt("run until step", value=run_until.value, on_value=set_run_until)
                    solara.Select("speed of Play", values=list(SPEEDS), value=speed.value, on_value=set_speed)
                with solara.Card("Save", margin=0):
                    SaveButtons(model.value, scenario)
                with solara.Card("Settings (take effect at Reset)", margin=0):
                    Settings(model.value, scenario, edits, seed_text)
            Cards(model.value, model.value.run_until)
    return page


page = Page()
