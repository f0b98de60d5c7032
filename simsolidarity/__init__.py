"""simsolidarity: agent-based simulation of online versus offline social solidarity.

The public API: :func:`run` a scenario, :func:`sweep` an experiment, :func:`load` a results
folder; the model itself (:class:`SolidarityModel`, a Mesa model); and the registries that extend
it (:func:`register_recommender`, :func:`register_outcome`, :func:`register_sampler`,
:func:`register_executor`). See docs/API.md.

Each name is imported when first used (PEP 562), so that the command line starts without
importing Mesa, pandas, SciPy or matplotlib until a command needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Where each public name lives.
_SOURCES = {
    "run": "simsolidarity.api",
    "sweep": "simsolidarity.api",
    "load": "simsolidarity.running.results",
    "Run": "simsolidarity.running.results",
    "Sweep": "simsolidarity.running.results",
    "SolidarityModel": "simsolidarity.model.model",
    "Person": "simsolidarity.model.agents",
    "PersonError": "simsolidarity.model.agents",
    "PersonValueError": "simsolidarity.model.agents",
    "PARAMETERS": "simsolidarity.model.parameters",
    "Parameter": "simsolidarity.model.parameters",
    "Parameters": "simsolidarity.model.parameters",
    "defaults": "simsolidarity.model.parameters",
    "resolve_parameters": "simsolidarity.model.parameters",
    "OUTCOMES": "simsolidarity.model.outcomes",
    "OutcomeError": "simsolidarity.model.outcomes",
    "measure": "simsolidarity.model.outcomes",
    "register_outcome": "simsolidarity.model.outcomes",
    "RECOMMENDERS": "simsolidarity.model.recommenders",
    "register_recommender": "simsolidarity.model.recommenders",
    "register_sampler": "simsolidarity.running.samplers",
    "SamplerError": "simsolidarity.running.samplers",
    "register_executor": "simsolidarity.running.executors",
    "SimsolidarityError": "simsolidarity.errors",
    "ParameterError": "simsolidarity.errors",
    "RecommenderError": "simsolidarity.errors",
    "CapacityError": "simsolidarity.errors",
    "ExecutorError": "simsolidarity.errors",
    "RunsFailedError": "simsolidarity.errors",
}

# Spelled out for tools that read it without running the module; a test checks it against _SOURCES.
__all__ = [
    "CapacityError",
    "ExecutorError",
    "OUTCOMES",
    "OutcomeError",
    "PARAMETERS",
    "Parameter",
    "ParameterError",
    "Parameters",
    "Person",
    "PersonError",
    "PersonValueError",
    "RECOMMENDERS",
    "RecommenderError",
    "Run",
    "RunsFailedError",
    "SamplerError",
    "SimsolidarityError",
    "SolidarityModel",
    "Sweep",
    "defaults",
    "load",
    "measure",
    "register_executor",
    "register_outcome",
    "register_recommender",
    "register_sampler",
    "resolve_parameters",
    "run",
    "sweep",
]


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module 'simsolidarity' has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value  # found once; later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SOURCES])


if TYPE_CHECKING:  # what IDEs and type checkers see
    from simsolidarity.api import run, sweep
    from simsolidarity.errors import (
        CapacityError,
        ExecutorError,
        ParameterError,
        RecommenderError,
        RunsFailedError,
        SimsolidarityError,
    )
    from simsolidarity.model.agents import Person, PersonError, PersonValueError
    from simsolidarity.model.model import SolidarityModel
    from simsolidarity.model.outcomes import OUTCOMES, OutcomeError, measure, register_outcome
    from simsolidarity.model.parameters import PARAMETERS, Parameter, Parameters, defaults, resolve_parameters
    from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender
    from simsolidarity.running.executors import register_executor
    from simsolidarity.running.results import Run, Sweep, load
    from simsolidarity.running.samplers import SamplerError, register_sampler
