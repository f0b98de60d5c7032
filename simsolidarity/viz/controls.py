"""The app's controls: Mesa ``model_params`` built from the parameter schema and a scenario.

The parameters that matter most for the essay's claims get a control; every other parameter is
fixed at the scenario's value. Ranges come from :data:`~simsolidarity.model.parameters.PARAMETERS`
(an open bound moves in by one slider step); where the schema has no upper bound the app sets
one (:data:`APP_RANGES`). A control starts at the scenario's value, and a range is widened to
include it if needed.
"""

from __future__ import annotations

from typing import Any

from simsolidarity.model.parameters import PARAMETERS
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.scenario import Scenario

#: The parameters with a control, in the order they are shown.
CONTROLLED: tuple[str, ...] = (
    "recommender",
    "n_people",
    "online_share",
    "online_depth",
    "isolation_mean",
    "confidence",
)
#: Step of a slider for a real-valued parameter.
FLOAT_STEP = 0.01
#: ``(least, most, step)`` of the integer sliders; the schema leaves ``n_people`` unbounded above.
APP_RANGES: dict[str, tuple[int, int, int]] = {"n_people": (100, 20_000, 100)}


def control(name: str, value: Any) -> dict[str, Any]:
    """The Mesa ``model_params`` entry of the control for parameter ``name``, starting at ``value``.

    ``recommender`` is a dropdown of the registered recommenders (plugins included); a number
    is a slider over the schema's range. The label is the parameter's canonical name.
    """
    parameter = PARAMETERS[name]
    if name == "recommender":
        return {"type": "Select", "value": value, "values": list(RECOMMENDERS), "label": name}
    if parameter.type is int:
        least, most, step = APP_RANGES.get(name, (parameter.low, parameter.high, 1))
        least = max(least, parameter.low) if parameter.low is not None else least
        if most is None:
            raise ValueError(f"the schema gives {name} no upper bound: add it to APP_RANGES")
        return {"type": "SliderInt", "value": value, "min": int(min(least, value)), "max": int(max(most, value)),
                "step": step, "label": name}
    if parameter.type is float:
        least = parameter.low + (FLOAT_STEP if parameter.low_open else 0.0)
        most = parameter.high - (FLOAT_STEP if parameter.high_open else 0.0)
        return {"type": "SliderFloat", "value": value, "min": min(least, value), "max": max(most, value),
                "step": FLOAT_STEP, "label": name}
    raise ValueError(f"no control for the {parameter.type.__name__} parameter {name}")


def model_params(scenario: Scenario, controlled: tuple[str, ...] = CONTROLLED) -> dict[str, Any]:
    """Mesa ``model_params`` for :class:`~simsolidarity.viz.appmodel.VizModel` from ``scenario``.

    The seed box and one control per name in ``controlled`` are adjustable; the scenario's full
    parameter set and its name are fixed entries, so a reset builds
    ``VizModel(parameters=scenario.model, scenario_name=..., rng=<seed box>, **<controls>)``.
    """
    params: dict[str, Any] = {
        "parameters": dict(scenario.model),
        "scenario_name": scenario.name,
        "rng": {"type": "InputText", "value": str(scenario.seed), "label": "seed"},
    }
    for name in controlled:
        params[name] = control(name, scenario.model[name])
    return params
