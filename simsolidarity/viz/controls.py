"""The app's settings: every parameter of the schema as a number or a choice, the seed, the end step, the speed.

What a control holds waits for Reset (as in NetLogo's setup): the settings are kept apart from the
model in use, :func:`pending_changes` names those that differ from it, and :func:`reset_arguments`
is what Reset builds the next :class:`~simsolidarity.viz.appmodel.VizModel` from. Each edit is
checked against the parameter schema when it is made (:func:`check_edit`), so Reset never meets
a bad value.

The parameters that the ready scenarios set (:func:`headline_parameters`) come first; every other
one is in an "all parameters" section, grouped as the schema groups them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import solara

from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.memory import check_memory
from simsolidarity.model.outcomes import OUTCOMES
from simsolidarity.model.parameters import PARAMETERS, Parameters
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.scenario import Scenario, load_scenario, ready_scenarios
from simsolidarity.viz.appmodel import VizModel, seed_from_text, with_grid_fitted

#: Always up front, whatever the ready scenarios set: the population, the recommendation rule, and the two
#: parameters of the essay's claims that no ready scenario moves (how deep online ties are, how strongly a
#: meeting moves opinions).
ALWAYS_UP_FRONT: tuple[str, ...] = ("n_people", "recommender", "online_depth", "influence")

#: Speeds of Play, in plain words: the pause between steps (ms) and how many steps go between redraws.
SPEEDS: dict[str, tuple[int, int]] = {
    "slow: 2 steps a second": (500, 1),
    "steady: 10 steps a second": (100, 1),
    "fast: as fast as it draws": (1, 1),
    "fastest: draw every 10th step": (1, 10),
}
DEFAULT_SPEED = "steady: 10 steps a second"


@cache
def headline_parameters() -> tuple[str, ...]:
    """The parameters shown up front, in schema order: those some ready scenario sets away from its default,
    and :data:`ALWAYS_UP_FRONT`."""
    defining = set(ALWAYS_UP_FRONT)
    for path in ready_scenarios():
        model = load_scenario(path).model
        defining.update(name for name, value in model.items() if value != PARAMETERS[name].default)
    return tuple(name for name in PARAMETERS if name in defining)


def other_parameters() -> dict[str, list[str]]:
    """Every parameter not up front, by the schema's group, groups in schema order."""
    shown = set(headline_parameters())
    groups: dict[str, list[str]] = {}
    for name, parameter in PARAMETERS.items():
        if name not in shown:
            groups.setdefault(parameter.group, []).append(name)
    return groups


def check_edit(base: Mapping[str, Any], edits: Mapping[str, Any], name: str, value: Any) -> str | None:
    """Why ``name = value`` cannot be set over ``base`` and the other ``edits`` (the schema's message, or the
    memory check's), or ``None``; a new ``n_people`` refits the grid, as Reset will."""
    try:
        parameters = Parameters.from_mapping({**base, **with_grid_fitted(base, {**edits, name: value})})
        check_memory(parameters.as_dict(), n_outcomes=len(OUTCOMES))
    except SimsolidarityError as error:
        return str(error)
    return None


def reset_arguments(scenario: Scenario, edits: Mapping[str, Any], seed_text: str, run_until: int) -> dict[str, Any]:
    """The keyword arguments Reset builds the next model from: the scenario, the edited values, seed and end step."""
    return {"parameters": dict(scenario.model), "scenario_name": scenario.name, "rng": seed_text,
            "run_until": run_until, **edits}


def pending_changes(model: VizModel, scenario: Scenario, edits: Mapping[str, Any], seed_text: str) -> list[str]:
    """What Reset would change, as ``name: now -> then`` lines: parameters that differ from the model in use,
    and the seed when the box names another one (an empty box always draws a new one)."""
    lines = []
    wanted = {**scenario.model, **edits}
    for name, value in wanted.items():
        if name in ("width", "height") and "n_people" in edits and name not in edits:
            continue  # refitted to the population at Reset
        if model.parameters[name] != value:
            lines.append(f"{name}: {model.parameters[name]} -> {value}")
    seed = seed_from_text(seed_text)
    if seed != model.seed:
        lines.append(f"seed: {model.seed} -> {'a new random one' if seed is None else seed}")
    return lines


@solara.component
def ParameterInput(name: str, value: Any, changed: bool, on_value: Callable[[str, Any], str | None]):
    """One parameter: a number box (or the recommenders' list) with its value, its range and meaning as hint.

    ``changed`` marks a value that waits for Reset; ``on_value(name, value)`` returns the schema's message
    for a value it refuses, shown under the box until a good value comes.
    """
    parameter = PARAMETERS[name]
    error, set_error = solara.use_state(None)

    def take(new: Any) -> None:
        if new is None:
            set_error(f"{name}: a number is needed ({parameter.range_text})")
            return
        set_error(on_value(name, new))

    label = f"{name} (changed)" if changed else name
    hint = f"{parameter.meaning}; range {parameter.range_text}"
    style = {"background-color": "rgba(255, 193, 7, 0.18)"} if changed else {}
    with solara.Column(gap="0px", style=style, classes=["simsolidarity-parameter"]):
        if name == "recommender":
            solara.Select(label=label, value=value, values=list(RECOMMENDERS), on_value=take)
        elif parameter.type is int:
            solara.InputInt(label=label, value=value, on_value=take, continuous_update=False)
        else:
            solara.InputFloat(label=label, value=value, on_value=take, continuous_update=False)
        if error:
            solara.Text(error, style={"color": "#c62828", "font-size": "0.8em"})
        else:
            solara.Text(hint, style={"font-size": "0.72em", "color": "#757575", "line-height": "1.2"})


@solara.component
def Settings(model: VizModel, scenario: Scenario, edits: solara.Reactive[dict], seed_text: solara.Reactive[str]):
    """The settings card: pending changes, the seed, the parameters up front, then all the others."""
    current = {**scenario.model, **edits.value}

    def on_value(name: str, value: Any) -> str | None:
        problem = check_edit(scenario.model, edits.value, name, value)
        if problem is None:
            edits.set({**edits.value, name: value} if value != scenario.model[name] else
                      {key: v for key, v in edits.value.items() if key != name})
        return problem

    pending = pending_changes(model, scenario, edits.value, seed_text.value)
    if pending:
        solara.Warning(f"{len(pending)} change{'s' if len(pending) > 1 else ''} wait for Reset: "
                       + "; ".join(pending), dense=True, classes=["simsolidarity-pending"])
    solara.InputText("seed for the next Reset (empty: a new random one)", value=seed_text, continuous_update=False)
    solara.Text(f"this run's seed: {model.seed}", classes=["simsolidarity-seed"], style={"user-select": "all"})
    for name in headline_parameters():
        ParameterInput(name, current[name], name in edits.value, on_value)
    # Drawn only while open: the page is drawn again at every step, and these are most of its controls.
    show_all, set_show_all = solara.use_state(False)
    hidden = [name for names in other_parameters().values() for name in names]
    changed = sum(name in edits.value for name in hidden)
    count = f"{len(hidden)} more, {changed} changed" if changed else f"{len(hidden)} more"
    solara.Button(f"{'hide' if show_all else 'show'} all parameters ({count})", text=True,
                  on_click=lambda: set_show_all(not show_all), classes=["simsolidarity-all-parameters"])
    if show_all:
        for group, names in other_parameters().items():
            solara.Text(group, style={"font-weight": "bold", "margin-top": "8px", "display": "block"})
            for name in names:
                ParameterInput(name, current[name], name in edits.value, on_value)
