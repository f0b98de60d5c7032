"""simsolidarity: agent-based simulation of online versus offline social solidarity.

The public API: :func:`run` a scenario, :func:`sweep` an experiment, :func:`load` a results
folder; the model itself (:class:`SolidarityModel`, a Mesa model); and the registries that extend
it (:func:`register_recommender`, :func:`register_outcome`, :func:`register_sampler`,
:func:`register_executor`). See docs/API.md.
"""

from simsolidarity.api import run, sweep
from simsolidarity.errors import (
    CapacityError,
    ExecutorError,
    ParameterError,
    RecommenderError,
    RunsFailedError,
    SimsolidarityError,
)
from simsolidarity.model.agents import Person
from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import OUTCOMES, OutcomeError, measure, register_outcome
from simsolidarity.model.parameters import PARAMETERS, Parameter, Parameters, defaults, resolve_parameters
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender
from simsolidarity.running.executors import register_executor
from simsolidarity.running.results import Run, Sweep, load
from simsolidarity.running.samplers import SamplerError, register_sampler

__version__ = "0.1.0"

__all__ = [
    "CapacityError",
    "ExecutorError",
    "OUTCOMES",
    "OutcomeError",
    "PARAMETERS",
    "RECOMMENDERS",
    "Parameter",
    "ParameterError",
    "Parameters",
    "Person",
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
