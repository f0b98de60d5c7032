"""What the page saves: the time series as CSV, the settings as a scenario file that ``simsolidarity run`` runs.

Each is a plain function of the model in use, so that what the page offers can be checked without a
browser; the pictures are the cards' own PNGs (:meth:`~simsolidarity.viz.components.Card.png`).
"""

from __future__ import annotations

import dataclasses
import io

from simsolidarity.running.folders import write_table
from simsolidarity.running.run import timeseries
from simsolidarity.running.scenario import Scenario
from simsolidarity.viz.appmodel import VizModel


def timeseries_csv(model: VizModel) -> str:
    """Every recorded outcome, one row per step from step 0, as a run's ``timeseries.csv`` has them."""
    buffer = io.StringIO()
    write_table(buffer, timeseries(model))
    return buffer.getvalue()


def settings_scenario(model: VizModel, scenario: Scenario) -> Scenario:
    """The run on screen as a scenario: ``scenario`` with the model's parameters, its seed in use and its end
    step (the step it has reached when it has no end), under the same name."""
    steps = model.run_until if model.run_until is not None else max(int(model.steps), 1)
    return dataclasses.replace(
        scenario, seed=int(model.seed), steps=int(steps), model=dict(model.parameters), overrides=(),
        description=f"{scenario.description} (settings saved from the browser app)".strip(),
    )


def settings_yaml(model: VizModel, scenario: Scenario) -> str:
    """:func:`settings_scenario` as a scenario file."""
    return settings_scenario(model, scenario).to_yaml()
